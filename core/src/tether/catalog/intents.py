"""The handshake that keeps ``gc`` from collecting what a running ``log`` uploads or reuses.

An object in the catalog's storage may be needed by a ``log`` that has not
claimed its version yet: one it is uploading, or one already there that it
reuses (the same bytes logged again, perhaps after the only version using
them was deleted). Neither is referenced by any claim, and a reused object
can be arbitrarily old, so age alone cannot protect it. Two small files
make it safe, in the manner of Dekker's mutual exclusion (each side writes
its flag, then reads the other's)::

    objects/intents/<id>.json     a log: "I am about to use these digests"
    objects/gc-pending/<id>.json  a gc:  "I am about to delete these digests"

* ``log`` writes its intent before it looks at any content address, then
  lists ``gc-pending``: if a gc is about to delete one of its digests, it
  waits until that gc is done (the object is then gone, and is uploaded
  again) before looking. It removes its intent once its claim is written.
* ``gc`` writes its pending list before it reads the intents, drops every
  digest an intent names, re-reads the claims (a log that finished in the
  meantime is seen there), and only then deletes.

Both stores tether catalogs live on (a local disk, S3, GCS) read their own
writes and list them at once (strong consistency), so whichever of the two
writes comes second, its writer sees the other's: a log and a gc never both
miss each other. Intents of a log that died expire after :data:`INTENT_TTL`;
a gc stops deleting half of :data:`PENDING_TTL` after writing its list, a log
waits at most :data:`PENDING_TTL` for a gc that died, and a list twice that
old is ignored (clocks must agree within a quarter of an hour).
"""

from __future__ import annotations

import contextvars
import json
import os
import secrets
import socket
import time
from collections.abc import Iterable

from ..driver import Driver
from ..errors import ManifestError, ObjectNotFoundError, TetherError
from .claims import load_json

#: An intent older than this is a log that died: it protects nothing any more.
INTENT_TTL = 7 * 24 * 3600.0
#: A gc stops deleting this long after writing its pending list; logs wait at most this long.
PENDING_TTL = 600.0
_POLL = (0.1, 2.0)

# Intents written by the current log call (a context: each thread logs on its own).
_OPEN: contextvars.ContextVar[tuple[tuple[Driver, str], ...]] = contextvars.ContextVar("tether_intents",
                                                                                      default=())


def intents_uri(storage_uri: str) -> str:
    return storage_uri.rstrip("/") + "/intents"


def pending_uri(storage_uri: str) -> str:
    return storage_uri.rstrip("/") + "/gc-pending"


def new_id() -> str:
    return f"{int(time.time())}-{secrets.token_hex(8)}"


def announce(store: Driver, storage_uri: str, digests: Iterable[str]) -> None:
    """A log's half: record the digests it is about to use, then wait out any gc deleting one of them."""
    wanted = sorted(set(digests))
    if not wanted:
        return
    release_intents()  # what a failed earlier log in this context left
    uri = f"{intents_uri(storage_uri)}/{new_id()}.json"
    doc = {"schema": "tether.intent/1", "digests": wanted, "at": time.time(), "host": socket.gethostname(),
           "pid": os.getpid()}
    store.write_bytes(uri, json.dumps(doc).encode())
    _OPEN.set((*_OPEN.get(), (store, uri)))
    _wait_for_gc(store, storage_uri, set(wanted))


def release_intents() -> None:
    """Remove the intents of this context's log: its claim references what they named."""
    for store, uri in _OPEN.get():
        try:
            store.delete(uri)
        except (TetherError, OSError):
            pass  # expires on its own
    _OPEN.set(())


def _wait_for_gc(store: Driver, storage_uri: str, wanted: set[str]) -> None:
    start = time.monotonic()
    delay = _POLL[0]
    while time.monotonic() - start < PENDING_TTL:
        if not any(wanted & digests for digests in pending_lists(store, storage_uri).values()):
            return
        time.sleep(delay)
        delay = min(_POLL[1], delay * 2)


def _read_list(store: Driver, uri: str, key: str) -> tuple[float, set[str]] | None:
    try:
        doc = load_json(store.read_bytes(uri), uri)
    except (ObjectNotFoundError, ManifestError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("at"), (int, float)):
        return None
    items = doc.get(key)
    return float(doc["at"]), {d for d in items if isinstance(d, str)} if isinstance(items, list) else set()


def pending_lists(store: Driver, storage_uri: str, now: float | None = None) -> dict[str, set[str]]:
    """Digests each live gc is about to delete (a list far older than
    :data:`PENDING_TTL` is a gc that died and deletes nothing)."""
    now = time.time() if now is None else now
    folder = pending_uri(storage_uri)
    out = {}
    for n in store.list_names(folder):
        got = _read_list(store, f"{folder}/{n}", "digests")
        if got is not None and now - got[0] < 2 * PENDING_TTL:
            out[n] = got[1]
    return out


def intent_digests(store: Driver, storage_uri: str, now: float | None = None,
                   expired: list[str] | None = None) -> set[str]:
    """Every digest a live log announced; the URIs of expired intents are added to ``expired``."""
    now = time.time() if now is None else now
    folder = intents_uri(storage_uri)
    out: set[str] = set()
    for n in store.list_names(folder):
        got = _read_list(store, f"{folder}/{n}", "digests")
        if got is None:
            continue
        if now - got[0] > INTENT_TTL:
            if expired is not None:
                expired.append(f"{folder}/{n}")
            continue
        out |= got[1]
    return out


def write_pending(store: Driver, storage_uri: str, digests: Iterable[str]) -> str:
    """A gc's half, first step: announce what it is about to delete. Returns the list's URI."""
    uri = f"{pending_uri(storage_uri)}/{new_id()}.json"
    store.write_bytes(uri, json.dumps({"schema": "tether.gc-pending/1", "digests": sorted(set(digests)),
                                       "at": time.time(), "host": socket.gethostname()}).encode())
    return uri
