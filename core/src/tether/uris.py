"""URI splitting and redaction.

tether keeps object URIs *raw*: ``s3://bucket/a b#c?d%20`` names the key
``a b#c?d%20`` exactly. Keys may contain any character, so URIs are never run
through ``urllib.parse`` (which would eat ``#`` and ``?``); drivers decide
which suffixes (``?versionId=``, ``#generation``) they treat as version pins.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_BARE_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):(?!\\)")
SCHEME_NAME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*$")


def split_scheme(uri: str) -> tuple[str | None, str]:
    """Return ``(scheme, rest)``; scheme is lower-cased, None for a plain path.

    ``C:\\data`` and ``C:/data`` are Windows paths, not a ``c:`` scheme.
    ``mailto:x`` style strings return their scheme with the rest after ``:``.
    """
    m = _SCHEME_RE.match(uri)
    if m:
        return m.group(1).lower(), uri[m.end():]
    m = _BARE_SCHEME_RE.match(uri)
    if m and len(m.group(1)) > 1:
        return m.group(1).lower(), uri[m.end():]
    return None, uri


_USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^/@]*@)")
# Query parameters that carry credentials: presigned S3/GCS/Azure URLs, OAuth.
_SECRET_PARAM_RE = re.compile(
    r"(signature|sig|token|credential|secret|password|passwd|key|auth|"
    r"x-amz-|x-goog-|se$|sp$|sv$|st$)",
    re.IGNORECASE,
)


def redact(uri: str) -> str:
    """Strip credentials from a URI so it can go into a manifest, log or error.

    Removes ``user:password@`` userinfo and every query parameter that looks
    like a signature, token or key (presigned URLs). Object keys themselves are
    left alone: only ``http(s)``-like URIs have query strings that mean
    something, so the query is only inspected for those schemes.
    """
    out = _USERINFO_RE.sub(lambda m: m.group(1) + ("***@" if m.group(2) else ""), uri)
    scheme, _ = split_scheme(out)
    if scheme in {"http", "https", "ftp", "ftps", "sftp", "ws", "wss"} and "?" in out:
        base, _, query = out.partition("?")
        fragment = ""
        if "#" in query:
            query, _, fragment = query.partition("#")
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                if not _SECRET_PARAM_RE.search(k)]
        out = base + ("?" + urlencode(kept) if kept else "") + ("#" + fragment if fragment else "")
    return out
