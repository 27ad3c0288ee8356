"""One loopback HTTP server for the session (a thread on 127.0.0.1); a fresh folder per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import tether.config

from ..servers import environ
from .server import LoopbackServer


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackServer]:
    server = LoopbackServer(tmp_path_factory.mktemp("served"))
    try:
        # A proxy of the machine must not take the loopback requests.
        with environ(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost"):
            yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_server(http_server: LoopbackServer) -> Iterator[LoopbackServer]:
    """Default behaviour for each test; whatever a handler raised fails the test."""
    http_server.reset()
    tether.config.reset()
    yield http_server
    errors = list(http_server.errors)
    http_server.reset()
    if errors:
        raise AssertionError(f"the loopback server raised {len(errors)} error(s); the first: {errors[0]!r}") \
            from errors[0]


@pytest.fixture
def base(http_server: LoopbackServer) -> str:
    """A fresh, empty folder on the server, as an http:// URL."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    (http_server.root / name).mkdir()
    return f"{http_server.url}/{name}"


@pytest.fixture(scope="session")
def https_server(http_server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackServer]:
    """The same folder served over TLS, by a certificate of a throw-away CA; ``.ca`` is its bundle."""
    from .tls import make_tls

    context, ca = make_tls(tmp_path_factory.mktemp("tls"))
    server = LoopbackServer(http_server.root, tls=context)
    server.ca = str(ca)  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def https_base(https_server: LoopbackServer, base: str) -> Iterator[str]:
    """``base``'s folder as an https:// URL, the client trusting the test CA."""
    https_server.reset()
    tether.config.reset()
    tether.configure("https", verify=https_server.ca)  # type: ignore[attr-defined]
    yield f"{https_server.url}/{base.rsplit('/', 1)[1]}"
    errors = list(https_server.errors)
    https_server.reset()
    if errors:
        raise AssertionError(f"the https server raised {len(errors)} error(s); the first: {errors[0]!r}") \
            from errors[0]
