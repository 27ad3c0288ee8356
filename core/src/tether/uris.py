"""URI splitting and redaction.

tether keeps object URIs *raw*: ``s3://bucket/a b#c?d%20`` names the key
``a b#c?d%20`` exactly. Keys may contain any character, so URIs are never run
through ``urllib.parse`` (which would eat ``#`` and ``?``); drivers decide
which suffixes (``?versionId=``, ``#generation``) they treat as version pins.

Redaction
---------
:func:`redact` is the one gate between a URI a user typed and anything tether
writes or prints (manifests, warnings, errors, ``--json``). Two rules find the
credentials in the URI as given; every span they find becomes ``***``:

1. **Userinfo.** In ``scheme://authority/...`` (nested schemes too:
   ``jdbc:postgresql://``), the userinfo is everything before the *last* ``@``
   of the authority, the split urllib and curl make, so a password may hold
   ``@``: ``s3://KEY:SECRET@bucket/k`` becomes ``s3://***@bucket/k``. The
   authority ends at the first ``/`` (and at ``?`` or ``#`` for schemes with
   queries, rule 2). An authority with no ``@`` whose ``:`` is not followed by a
   port number (``s3://KEY:SE/CRET@bucket``, an AWS secret with its ``/`` left
   unescaped) is malformed for every scheme and is read as a password holding
   ``/``: everything up to the last ``@`` (before any query) is masked. In an
   opaque URI of a scheme with queries (``jdbc:oracle:thin:scott/tiger@host``)
   everything before the last ``@`` is masked. In Hadoop's Azure form
   (``abfss://container@account.dfs.core.windows.net/``) the part before ``@``
   is a container name, masked only when it holds a ``:``.
2. **Parameters.** For schemes with query semantics -- every scheme except the
   object-store and filesystem schemes in :data:`RAW_KEY_SCHEMES` and those
   of installed drivers that declare ``raw_keys`` (every
   :class:`~tether.objectstore.ObjectStoreDriver`), whose ``?``, ``#`` and
   ``;`` are part of object keys -- the value of every
   ``name=value`` parameter that follows ``?``, ``&``, ``;`` or ``#`` (queries,
   OAuth fragments, JDBC and path parameters) is masked when
   :func:`is_secret_name` says the name carries a credential. A value runs to
   the next ``?``, ``&``, ``;`` or ``#`` that starts another ``name=``, so a
   password holding ``&`` is masked whole.

Plain paths (no scheme) are file names and are never changed. Masking errs on
the side of hiding: a span may take a harmless neighbour with it, never leave
part of a secret behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_BARE_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):(?!\\)")
SCHEME_NAME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*$")

#: Schemes whose URIs name raw object keys or file paths: ``?``, ``#`` and
#: ``;`` in them are part of the key, so only their userinfo is redacted.
RAW_KEY_SCHEMES = frozenset({
    "s3", "s3a", "s3n", "gs", "gcs", "file", "az", "abfs", "abfss", "adl", "hdfs", "memory", "oss",
})

# Answers for schemes outside RAW_KEY_SCHEMES: the driver registry, which knows
# the loaded drivers' ``raw_keys`` flags (core never imports a driver, and this
# module must not import the registry, which imports it).
_raw_key_source: Callable[[str], bool] | None = None


def set_raw_key_source(source: Callable[[str], bool] | None) -> None:
    """Install what tells whether a scheme not in :data:`RAW_KEY_SCHEMES` names
    raw keys (:mod:`tether.plugins` installs the registry's answer). Before the
    registry has loaded, such a scheme is redacted with query semantics: more
    masked, never less."""
    global _raw_key_source
    _raw_key_source = source


def is_raw_key_scheme(scheme: str) -> bool:
    """True when ``?``, ``#`` and ``;`` in ``scheme://`` URIs belong to the key."""
    if scheme in RAW_KEY_SCHEMES:
        return True
    source = _raw_key_source
    return source is not None and source(scheme)


#: Schemes whose authority is ``container@account`` (Hadoop's Azure form): the
#: part before ``@`` names a container, and is a credential only with a ``:``.
CONTAINER_AT_SCHEMES = frozenset({"az", "abfs", "abfss", "wasb", "wasbs"})

MASK = "***"


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


# Names that carry credentials: passwords, tokens, signatures of presigned
# S3/GCS/Azure/CloudFront URLs, OAuth codes, session ids, API keys.
_SECRET_WORDS = ("passw", "pwd", "token", "secret", "signature", "credential", "key", "auth",
                 "session", "sessid", "private", "cookie", "jwt", "x-amz-", "x-goog-")
_SECRET_NAMES = frozenset({"sig", "code", "pass", "pw", "otp", "ticket", "sas",
                           # Azure SAS fields besides sig: harmless, but they mark a signed URL
                           "se", "sp", "sv", "st", "sr", "spr", "skoid", "sktid", "skt", "ske", "sks", "skv"})
_CHAIN_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)+")  # "https:", "jdbc:postgresql:"
_PARAM_RE = re.compile(r"[?&;#]([^=?&;#]*)=")
_IPV6_RE = re.compile(r"\[[^\]]*\]")
_PORT_RE = re.compile(r"\d{0,5}")


def _is_port(text: str) -> bool:
    return bool(_PORT_RE.fullmatch(text)) and int(text or 0) <= 65535


def is_secret_name(name: str) -> bool:
    """True when a parameter called ``name`` carries a credential (case and
    percent-encoding ignored): ``password``, ``pwd``, ``access_token``,
    ``X-Amz-Signature``, ``sig``, ``code``, ``api_key``, ``jsessionid`` ..."""
    n = unquote(name).strip().lower()
    return n in _SECRET_NAMES or n.endswith(("_code", "-code")) or any(w in n for w in _SECRET_WORDS)


def _find(text: str, chars: str, start: int) -> int:
    """Index of the first of ``chars`` in ``text`` at or after ``start``, else len(text)."""
    hits = [i for i in (text.find(c, start) for c in chars) if i >= 0]
    return min(hits) if hits else len(text)


def _userinfo_span(uri: str, start: int, raw: bool) -> tuple[int, int] | None:
    """Rule 1: where the userinfo of ``uri`` lies (``start``: just after the schemes)."""
    if uri.startswith("//", start):
        start += 2
        end = _find(uri, "/" if raw else "/?#", start)
        at = uri.rfind("@", start, end)
        if at >= 0:
            return (start, at) if at > start else None
        host = _IPV6_RE.sub("", uri[start:end])
        if ":" in host and not _is_port(host.rsplit(":", 1)[1]):
            at = uri.rfind("@", end, len(uri) if raw else _find(uri, "?#", end))
            if at >= 0:
                return start, at
        return None
    if raw:
        return None  # "s3:bucket/a@b": a key, not credentials
    at = uri.rfind("@", start, _find(uri, "?#", start))
    return (start, at) if at > start else None


def _param_spans(uri: str, start: int) -> list[tuple[int, int]]:
    """Rule 2: the values of credential parameters."""
    found = list(_PARAM_RE.finditer(uri, start))
    spans = []
    for i, m in enumerate(found):
        if is_secret_name(m.group(1)):
            end = found[i + 1].start() if i + 1 < len(found) else len(uri)
            if end > m.end():
                spans.append((m.end(), end))
    return spans


def secret_spans(uri: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of ``uri`` that :func:`redact` masks, merged and sorted."""
    scheme, _ = split_scheme(uri)
    chain = _CHAIN_RE.match(uri)
    if scheme is None or chain is None:
        return []  # a plain path
    raw = is_raw_key_scheme(scheme)
    spans = [] if raw else _param_spans(uri, chain.end())
    user = _userinfo_span(uri, chain.end(), raw)
    if user and not _names_a_container(uri, scheme, user):
        spans.append(user)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def has_userinfo(uri: str) -> bool:
    """True when ``uri`` carries credentials before its host or bucket (rule 1)."""
    scheme, _ = split_scheme(uri)
    chain = _CHAIN_RE.match(uri)
    if scheme is None or chain is None:
        return False
    user = _userinfo_span(uri, chain.end(), is_raw_key_scheme(scheme))
    return user is not None and not _names_a_container(uri, scheme, user)


def _names_a_container(uri: str, scheme: str, span: tuple[int, int]) -> bool:
    """``abfss://container@account.dfs.core.windows.net/``: not credentials."""
    return scheme in CONTAINER_AT_SCHEMES and ":" not in uri[span[0]:span[1]]


def redact(uri: str) -> str:
    """``uri`` with every credential masked as ``***`` (rules in the module
    docstring); what may go into a manifest, a log line, an error or output."""
    spans = secret_spans(uri)
    if not spans:
        return uri
    out, pos = [], 0
    for s, e in spans:
        out.append(uri[pos:s])
        out.append(MASK)
        pos = e
    out.append(uri[pos:])
    return "".join(out)
