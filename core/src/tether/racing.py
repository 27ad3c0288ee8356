"""Run workers at the same moment and re-raise what any of them raised.

The contract suite's concurrency tests race threads, or spawned processes, on
one store. A worker's exception must fail the test: a thread that dies
silently, or a child process that exits without a word, otherwise leaves an
end state that can look right (one alias, one claim) while every racer failed.

:func:`race` releases all workers together (a barrier), waits for all of them,
and returns their results in call order; if any raised, it raises
:class:`WorkersFailed` naming how many failed and the first failure, chained
from that exception. Child processes send back their result or their pickled
exception (with the child's traceback as a note); a child that dies before
answering (killed, ``os._exit``) is reported with its exit code.
"""

# Public as ``tether.testing.race`` / ``tether.testing.WorkersFailed`` (driver authors import it there).
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from multiprocessing.connection import Connection
from typing import Any

import attrs

__all__ = ["WorkersFailed", "race"]


class WorkersFailed(AssertionError):
    """Some of the racing workers raised; ``errors`` holds every failure, first first."""

    def __init__(self, errors: Sequence[BaseException], total: int) -> None:
        first = errors[0]
        super().__init__(f"{len(errors)} of {total} workers raised; the first: {type(first).__name__}: {first}")
        self.errors = list(errors)


def race(fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], *, processes: bool = False,
         env: Mapping[str, str] | None = None, setup: Callable[[], Any] | None = None) -> list[Any]:
    """Call ``fn(*args)`` for every ``args`` in ``calls`` at once; return the results in order.

    With ``processes``, each call runs in its own spawned process (no state
    shared with this one but what ``fn``, its arguments, ``env`` and ``setup``
    carry): ``fn``, the arguments and ``setup`` must be picklable, i.e.
    module-level functions. A child inherits this process's environment, plus
    ``env``; it calls ``setup()`` (to configure tether the way this process was
    configured) before it waits for the others."""
    if not calls:
        raise ValueError("race() needs at least one call")
    if processes:
        outcomes = _race_processes(fn, calls, dict(env or {}), setup)
    else:
        if env or setup:
            raise ValueError("env and setup apply to processes only")
        outcomes = _race_threads(fn, calls)
    # Failures in the order they happened: the first one named is the cause,
    # not a sibling it broke (a racer released from a barrier its peer left).
    errors = [o.value for o in sorted(outcomes, key=lambda o: o.arrival) if not o.ok]
    if errors:
        raise WorkersFailed(errors, len(calls)) from errors[0]
    return [o.value for o in outcomes]


@attrs.frozen
class _Outcome:
    ok: bool
    value: Any  # the result, or the exception raised
    arrival: int  # when it was reported, relative to the others


def _race_threads(fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[_Outcome]:
    barrier = threading.Barrier(len(calls))

    def released(args: tuple[Any, ...]) -> Any:
        barrier.wait()
        return fn(*args)

    outcomes: dict[int, _Outcome] = {}
    with ThreadPoolExecutor(len(calls), thread_name_prefix="tether-race") as pool:
        futures = {pool.submit(released, args): i for i, args in enumerate(calls)}
        for arrival, future in enumerate(as_completed(futures)):
            exc = future.exception()
            value = future.result() if exc is None else exc
            outcomes[futures[future]] = _Outcome(exc is None, value, arrival)
    return [outcomes[i] for i in range(len(calls))]


def _race_processes(fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], env: dict[str, str],
                    setup: Callable[[], Any] | None) -> list[_Outcome]:
    ctx = multiprocessing.get_context("spawn")  # fork would copy this process's clients and locks
    barrier = ctx.Barrier(len(calls))
    procs: list[Any] = []
    pending: dict[Connection, int] = {}
    outcomes: dict[int, _Outcome] = {}
    released: set[int] = set()
    try:
        for i, args in enumerate(calls):
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(writer, barrier, env, setup, fn, args),
                               name=f"tether-race-{i}")
            proc.start()
            writer.close()
            procs.append(proc)
            pending[reader] = i
        while pending:
            for ready in multiprocessing.connection.wait(list(pending)):
                reader = ready  # type: ignore[assignment]  # wait() returns what it was given
                i = pending[reader]
                arrival = len(outcomes)
                try:
                    message = reader.recv()
                except EOFError:
                    # Died without answering (killed, os._exit). If it died
                    # before the barrier, its siblings would wait there for ever.
                    if i not in released:
                        barrier.abort()
                    del pending[reader]
                    reader.close()
                    procs[i].join()
                    outcomes[i] = _Outcome(False, _died(procs[i], answered=False), arrival)
                    continue
                if message == _RELEASED:
                    released.add(i)
                    continue
                del pending[reader]
                reader.close()
                ok, payload, tb = message
                if ok:
                    outcomes[i] = _Outcome(True, payload, arrival)
                else:
                    exc = _unpickle(payload)
                    exc.add_note(f"in worker process {procs[i].pid}:\n{tb}")
                    outcomes[i] = _Outcome(False, exc, arrival)
        for i, proc in enumerate(procs):
            proc.join()
            if proc.exitcode != 0 and outcomes[i].ok:  # answered, then crashed on the way out
                outcomes[i] = _Outcome(False, _died(proc, answered=True), len(procs) + i)
        return [outcomes[i] for i in range(len(calls))]
    finally:
        for proc in procs:
            if proc.is_alive():  # only after an error in this process: leave no racer behind
                proc.kill()
                proc.join()


def _died(proc: Any, *, answered: bool) -> ChildProcessError:
    return ChildProcessError(f"worker process {proc.pid} exited with code {proc.exitcode}"
                             + ("" if answered else " before reporting a result"))


def _unpickle(payload: bytes) -> BaseException:
    try:
        exc = pickle.loads(payload)
    except Exception as err:  # noqa: BLE001 - an exception class the parent cannot rebuild
        return RuntimeError(f"worker raised an exception that could not be unpickled ({err})")
    return exc if isinstance(exc, BaseException) else RuntimeError(repr(exc))


_RELEASED = "released"  # a child's first message: it is past the barrier


def _child(conn: Any, barrier: Any, env: dict[str, str], setup: Callable[[], Any] | None,
           fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A spawned worker: configure, wait for the others, run, send back the outcome."""
    try:
        os.environ.update(env)
        if setup is not None:
            setup()
        barrier.wait()
        conn.send(_RELEASED)
        answer: tuple[bool, Any, str] = (True, fn(*args), "")
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        answer = (False, _pickled(exc), traceback.format_exc())
    try:
        conn.send(answer)
    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
        conn.send((False, _pickled(exc), traceback.format_exc()))
    conn.close()


def _pickled(exc: BaseException) -> bytes:
    """``exc`` pickled, or a RuntimeError describing it when it (or its round trip) cannot be."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
