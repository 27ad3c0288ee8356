"""Serving the app: bind first, print the URL, then hand the socket to uvicorn.

The socket is bound and listening before the URL is printed, so ``--port 0``
(any free port) prints the real port and a client that reads the line can
connect at once (connections wait in the backlog until uvicorn accepts them).
"""

from __future__ import annotations

import ipaddress
import socket
import webbrowser
from collections.abc import Callable

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(root: str | None, host: str, port: int, *, open_browser: bool, echo: Callable[[str], None]) -> None:
    import uvicorn

    from .app import create_app

    app = create_app(root)
    sock = bind(host, port)
    url = url_of(sock, host)
    echo(url)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
