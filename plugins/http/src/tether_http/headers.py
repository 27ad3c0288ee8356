"""What an HTTP response says about the representation a URL names.

Pure functions over header values, no I/O:

* validators: the ETag (strong or weak, RFC 9110 §8.8.3) and Last-Modified;
* whole-object digests: ``Repr-Digest`` (RFC 9530), the older ``Digest``
  (RFC 3230), ``Content-MD5`` (RFC 1864) and Google's ``x-goog-hash``, all
  base64 of the raw digest on the wire, recorded as lower-case hex the way
  tether stores every computed checksum.

``Content-Digest`` is deliberately not read: it covers the bytes of one message
(the part of a 206), not the object.
"""

from __future__ import annotations

import binascii
import datetime as _dt
import email.utils
import re
from collections.abc import Iterable, Mapping
from typing import Protocol

# Algorithm names (RFC 9530 registry, RFC 3230 tokens, x-goog-hash) -> tether kind,
# with the digest's length in bytes: a value of another length is not that digest.
_ALGORITHMS: dict[str, tuple[str, int]] = {
    "sha-256": ("sha256", 32),
    "sha-512": ("sha512", 64),
    "sha": ("sha1", 20),
    "md5": ("md5", 16),
    "crc32c": ("crc32c", 4),
}
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
_SF_MEMBER_RE = re.compile(r"^\s*([a-z*][a-z0-9_.*-]*)\s*=\s*:([A-Za-z0-9+/=]*):")


class Recorded(Protocol):
    """What tether recorded about an object (a ``RemoteObject`` or an ``Asset``)."""

    @property
    def checksums(self) -> Mapping[str, str]: ...
    @property
    def size(self) -> int | None: ...
    @property
    def last_modified(self) -> str | None: ...


_RANGE_RE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


# --------------------------------------------------------------------- validators
def parse_etag(raw: str | None) -> str | None:
    """The ETag as tether records it: the opaque tag without quotes, ``W/`` kept
    in front of a weak one (``W/"x"`` -> ``W/x``). Unquoted tags (some servers
    send them) are taken as they are."""
    if not raw:
        return None
    raw = raw.strip()
    weak = raw[:2] in ("W/", "w/")
    tag = raw[2:] if weak else raw
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    if not tag:
        return None
    return ("W/" + tag) if weak else tag


def is_weak(etag: str) -> bool:
    return etag.startswith("W/")


def opaque(etag: str) -> str:
    """The tag without its weakness: what the weak comparison compares."""
    return etag[2:] if is_weak(etag) else etag


def if_match_value(etag: str) -> str:
    """The ``If-Match`` value for a recorded strong ETag."""
    return f'"{etag}"'


def iso_from_http_date(value: str | None) -> str | None:
    """``Last-Modified`` (an HTTP-date) as ISO 8601 UTC; None when unparseable."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date_from_iso(value: str | None) -> str | None:
    """A recorded ``last_modified`` back as an HTTP-date (``If-Unmodified-Since``)."""
    if not value:
        return None
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return email.utils.format_datetime(when.astimezone(_dt.UTC), usegmt=True)


def content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes 0-99/1234`` -> ``(0, 100, 1234)`` (end exclusive; total None for ``*``)."""
    if not value:
        return None
    m = _RANGE_RE.match(value)
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), int(m.group(2)) + 1, total


# ----------------------------------------------------------- the recorded object
def preconditions(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The request header pinning the recorded bytes: ``If-Match`` on a strong
    ETag, else ``If-Unmodified-Since`` on the date (weak tags are not allowed in
    ``If-Match``, RFC 9110 §13.1.1); nothing when neither was recorded."""
    if etag and not is_weak(etag):
        return {"If-Match": if_match_value(etag)}
    date = http_date_from_iso(last_modified)
    return {"If-Unmodified-Since": date} if date else {}


def same_object(status: int, headers: Mapping[str, str], recorded: Recorded) -> bool:
    """False when a response itself says its object is not the recorded one:
    another ETag (weak comparison), else another Last-Modified, or another total
    size. For servers and caches that ignore preconditions."""
    etag = recorded.checksums.get("etag")
    got_etag = parse_etag(headers.get("ETag"))
    if etag and got_etag:
        if opaque(etag) != opaque(got_etag):
            return False
    elif recorded.last_modified:
        got = iso_from_http_date(headers.get("Last-Modified"))
        if got and got != recorded.last_modified:
            return False
    if status == 206:
        found = content_range(headers.get("Content-Range"))
        total = found[2] if found else None
    else:
        length = (headers.get("Content-Length") or "").strip()
        total = int(length) if length.isdigit() else None
    return total is None or recorded.size is None or recorded.size < 0 or total == recorded.size


def validators(headers: Mapping[str, str]) -> str:
    """The response's validators, for a drift message."""
    return (f"ETag {headers.get('ETag')}, Last-Modified {headers.get('Last-Modified')}, "
            f"size {headers.get('Content-Range') or headers.get('Content-Length')}")


# ------------------------------------------------------------------------ digests
def _digest_hex(kind: str, length: int, value: str) -> str | None:
    """Base64 of the raw digest (what every one of these headers specifies), or
    hex of it (what some servers send in Content-MD5 anyway); else None."""
    value = value.strip()
    if len(value) == 2 * length and _HEX_RE.match(value):
        return value.lower()
    try:
        raw = binascii.a2b_base64(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw.hex() if len(raw) == length else None


def _add(out: dict[str, str], algorithm: str, value: str) -> None:
    known = _ALGORITHMS.get(algorithm.strip().lower())
    if known is None:
        return
    kind, length = known
    digest = _digest_hex(kind, length, value)
    if digest is not None:
        out.setdefault(kind, digest)  # the first (most trusted) header wins


def digests(headers: Mapping[str, str] | object, *, whole_body: bool) -> dict[str, str]:
    """Every whole-object checksum the headers carry, as ``{kind: hex}``.

    ``whole_body``: the response is a HEAD or a full 200, so ``Content-MD5``
    (a digest of this message's body) describes the whole object; on a 206 it
    covers only the part and is ignored. Precedence: Repr-Digest, Digest,
    Content-MD5, x-goog-hash. Malformed entries are ignored, never recorded."""
    out: dict[str, str] = {}
    for line in _all(headers, "Repr-Digest"):
        for member in line.split(","):
            m = _SF_MEMBER_RE.match(member)
            if m:
                _add(out, m.group(1), m.group(2))
    for line in _all(headers, "Digest"):
        for member in line.split(","):
            algorithm, sep, value = member.partition("=")
            if sep:
                _add(out, algorithm, value)
    if whole_body:
        for line in _all(headers, "Content-MD5"):
            _add(out, "md5", line)
    for line in _all(headers, "x-goog-hash"):
        for member in line.split(","):
            algorithm, sep, value = member.partition("=")
            if sep:
                _add(out, algorithm, value)
    return out


def _all(headers: object, name: str) -> Iterable[str]:
    """Every value of a header that may be repeated (urllib3's ``getlist``)."""
    getlist = getattr(headers, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = headers.get(name) if isinstance(headers, Mapping) else None  # type: ignore[union-attr]
    return [value] if value else []
