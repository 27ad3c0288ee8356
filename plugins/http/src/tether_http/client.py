"""The HTTP side of tether-http: options, one connection pool, requests.

urllib3 rather than an fsspec filesystem: tether needs every response header
(validators, digests, ``Content-Range``), its own conditional headers on each
ranged GET, undecoded bytes (``Content-Encoding`` left alone, so sizes and
digests are of the bytes the server sends) and no retry or redirect log line
that prints a URL, since URLs here may carry signatures.
"""

from __future__ import annotations

import base64
import difflib
import random
import time
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import urllib3
from tether.driverkit import bool_option, is_secret_name, redact, secret_spans, split_scheme
from tether.errors import ConfigError, InvalidURIError
from tether.options import Option

#: Options of the ``http`` and ``https`` schemes (``tether.configure("https", ...)``,
#: ``TETHER_HTTPS_<OPTION>``, ``[https]`` in config.toml). Each scheme reads its own.
OPTIONS: dict[str, tuple[type, Any, str]] = {
    "hash": (bool, False, ("read each object once when it is logged and record its sha256 "
                           "(only when the server sends no sha256 of its own)")),
    "signed_urls": (str, "link", ("'link': a URL carrying credentials is recorded as a link only; "
                                  "'record': fetch it with them once, record size and checksums under "
                                  "the redacted URL")),
    "verify": (str, True, "verify TLS certificates: true, false, or a CA bundle path"),
    "connect_timeout": (float, 10.0, "seconds to wait for a connection"),
    "read_timeout": (float, 60.0, "seconds to wait for bytes on an open connection"),
    "max_attempts": (int, 3, ("tries of a request at log time on connection errors, 429 and 5xx "
                              "(downloads are retried by tether itself)")),
    "max_redirects": (int, 10, "redirects followed per request"),
    "max_pool_connections": (int, 32, "connections kept open per host"),
}
SIGNED_URL_MODES = ("link", "record")
#: :data:`OPTIONS` as declarations (``tether plugins --options``). None is secret:
#: credentials travel in the URL and are never configured.
DECLARED_OPTIONS = tuple(
    Option(name, object if name == "verify" else kind, default, help=text,
           choices=SIGNED_URL_MODES if name == "signed_urls" else None)
    for name, (kind, default, text) in OPTIONS.items())
CHUNK = 1 << 20
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def parse_options(scheme: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert ``raw`` (strings from the environment or the config
    file, values from ``configure()``) against :data:`OPTIONS`."""
    out: dict[str, Any] = {name: default for name, (_, default, _) in OPTIONS.items()}
    for name, value in raw.items():
        if name not in OPTIONS:
            near = difflib.get_close_matches(name, list(OPTIONS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {sorted(OPTIONS)}"
            raise ConfigError(f"unknown {scheme} option {name!r}{hint}")
        kind = OPTIONS[name][0]
        try:
            if name == "verify":
                text = str(value).strip()
                out[name] = bool_option(value) if isinstance(value, bool) or text.lower() in (
                    "true", "false", "1", "0", "yes", "no", "on", "off") else text
            elif kind is bool:
                out[name] = bool_option(value)
            else:
                out[name] = kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{scheme} option {name!r} must be a {kind.__name__}, got {value!r}") from None
    if out["signed_urls"] not in SIGNED_URL_MODES:
        raise ConfigError(f"{scheme} option 'signed_urls' must be one of {SIGNED_URL_MODES}, "
                          f"got {out['signed_urls']!r}")
    if out["max_attempts"] < 1:
        raise ConfigError(f"{scheme} option 'max_attempts' must be at least 1")
    return out


# ------------------------------------------------------------------------- URLs
def split_url(uri: str) -> tuple[str, str, str]:
    """``(host[:port], path, query)`` of an http(s) URI (no userinfo, no
    fragment); InvalidURIError when there is no host or the port is bad."""
    scheme, rest = split_scheme(uri)
    parts = urlsplit(f"{scheme}://{rest}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidURIError(f"{redact(uri)!r}: invalid port") from None
    if not parts.hostname:
        raise InvalidURIError(f"{redact(uri)!r} names no host")
    return parts.netloc.rpartition("@")[2], parts.path, parts.query


def has_credentials(uri: str) -> bool:
    """True when ``uri`` carries secrets :func:`tether.driverkit.redact` masks:
    ``user:password@``, or a parameter named like a signature, token or key."""
    return bool(secret_spans(uri))


def recorded_uri(uri: str) -> str:
    """What goes into a manifest: ``uri`` as given, or, when it carries
    credentials, with its userinfo masked and its credential parameters (and
    any fragment, which no server sees) left out: a URL to fetch again with
    fresh credentials, not one holding ``***`` where a signature was."""
    if not has_credentials(uri):
        return uri
    scheme, rest = split_scheme(uri)
    rest = rest.split("#", 1)[0]
    base, _, query = rest.partition("?")
    authority, slash, path = base.partition("/")
    user, at, host = authority.rpartition("@")
    kept = [p for p in query.split("&") if p and not is_secret_name(unquote(p.split("=", 1)[0]))]
    out = f"{scheme}://{'***@' if at else ''}{host}{slash}{path}" + ("?" + "&".join(kept) if kept else "")
    return out if not secret_spans(out.replace("***@", "", 1)) else redact(uri)


def withheld_userinfo(uri: str) -> bool:
    """True for a URI whose credentials :func:`tether.driverkit.redact` replaced with ``***``."""
    _, rest = split_scheme(uri)
    return rest.split("/", 1)[0].startswith("***@")


def request_target(uri: str) -> tuple[str, dict[str, str]]:
    """The URL to send (userinfo and fragment removed, unsafe characters
    percent-encoded, existing escapes kept) and the headers its userinfo implies."""
    scheme, rest = split_scheme(uri)
    parts = urlsplit(f"{scheme}://{rest}")
    headers: dict[str, str] = {}
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and userinfo and userinfo != "***":  # "***": credentials redact() withheld
        user, _, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    host = parts.netloc.rpartition("@")[2]
    safe = "!$&'()*+,/:;=?@[]~%"
    path = quote(parts.path or "/", safe=safe)
    query = ("?" + quote(parts.query, safe=safe)) if parts.query else ""
    return f"{parts.scheme}://{host}{path}{query}", headers


# ------------------------------------------------------------------------ client
class Client:
    """One urllib3 pool (or proxy pool) per configuration; thread-safe."""

    def __init__(self, scheme: str, options: dict[str, Any]) -> None:
        self.scheme = scheme
        self.options = options
        kw: dict[str, Any] = {
            "maxsize": options["max_pool_connections"],
            "block": False,
            "timeout": urllib3.Timeout(connect=options["connect_timeout"], read=options["read_timeout"]),
        }
        verify = options["verify"]
        if verify is False:
            kw["cert_reqs"] = "CERT_NONE"
        elif isinstance(verify, str):
            kw["ca_certs"] = verify
        self._kw = kw
        self._direct = urllib3.PoolManager(**kw)
        self._proxies: dict[str, urllib3.ProxyManager] = {}

    def _pool(self, url: str) -> urllib3.PoolManager:
        """Proxies from the standard environment variables (``https_proxy``,
        ``no_proxy`` ...), as curl and requests honour them."""
        proxy = urllib.request.getproxies().get(self.scheme)
        if not proxy or urllib.request.proxy_bypass(urlsplit(url).hostname or ""):
            return self._direct
        pool = self._proxies.get(proxy)
        if pool is None:
            pool = self._proxies.setdefault(proxy, urllib3.ProxyManager(proxy, **self._kw))
        return pool

    def request(self, method: str, uri: str, headers: Mapping[str, str] | None = None, *,
                attempts: int | None = None) -> urllib3.BaseHTTPResponse:
        """Send one request, body not yet read (``preload_content=False``).

        Connection errors, 408, 429 and 5xx are tried ``attempts`` times with
        backoff (the last response or error is returned / raised). urllib3's
        own retries are off: they log the URL, and that may hold a signature."""
        url, auth = request_target(uri)
        sent = {"Accept-Encoding": "identity", "User-Agent": "tether-http", **auth, **(headers or {})}
        tries = attempts or self.options["max_attempts"]
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0,
                                redirect=self.options["max_redirects"], raise_on_redirect=True,
                                raise_on_status=False)
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                resp = self._pool(url).request(method, url, headers=sent, preload_content=False,
                                               decode_content=False, retries=retries, redirect=True)
            except (urllib3.exceptions.MaxRetryError, urllib3.exceptions.HTTPError):
                if last:
                    raise
            else:
                if resp.status not in _TRANSIENT_STATUSES or last:
                    return resp
                discard(resp)
            time.sleep(min(5.0, 0.2 * 2 ** attempt) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")


def read_exactly(resp: urllib3.BaseHTTPResponse, n: int) -> bytes:
    """Up to ``n`` bytes of the body (fewer only when it ends first)."""
    parts: list[bytes] = []
    want = n
    while want > 0:
        chunk = resp.read(min(want, 4 * CHUNK), decode_content=False)
        if not chunk:
            break
        parts.append(chunk)
        want -= len(chunk)
    return b"".join(parts)


def skip(resp: urllib3.BaseHTTPResponse, n: int) -> int:
    """Read and drop ``n`` bytes, a chunk at a time; returns how many were dropped."""
    dropped = 0
    while dropped < n:
        chunk = resp.read(min(n - dropped, CHUNK), decode_content=False)
        if not chunk:
            break
        dropped += len(chunk)
    return dropped


def discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Give the connection back when the body was read to its end (a HEAD's is
    empty), else close it: reading the rest of a large body nobody wants costs
    more than a new connection."""
    try:
        if resp.length_remaining == 0:
            resp.drain_conn()  # reads the end of the body: http.client reuses a connection only then
        else:
            resp.close()
        resp.release_conn()
    except Exception:  # noqa: BLE001, S110 - a connection we are done with anyway
        pass
