"""Catalog values made safe and readable for a page or a JSON answer.

Everything a catalog holds is input: whoever can write the bucket writes the
names, paths, metadata and links shown. Templates escape every value (Jinja2
autoescape; no ``|safe`` on catalog data); this module adds the rules
escaping alone does not give:

* a link is clickable only when it is ``http://`` or ``https://`` (checked on
  the exact string, so ``javascript:``, ``data:``, `` java\\tscript:`` and
  relative links are shown as text, never as an ``href``);
* every URI and link is shown redacted (:func:`tether.uris.redact`);
* long values are cut for display.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from .. import checksums
from ..diff import human_size
from ..models import Asset
from ..paths import shown_name
from ..uris import redact as _redact
from ..uris import split_scheme

_HTTP_RE = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
MAX_SHOWN = 2000

__all__ = ["asset_json", "command", "href", "human_size", "message", "pinned_uri", "redact", "redact_deep", "shown_value",
           "strength"]


def redact(uri: str | None) -> str:
    return "" if uri is None else _redact(uri)


def redact_deep(value: Any) -> Any:
    """Metadata with every string that is a URI redacted, keys and nesting kept."""
    if isinstance(value, str):
        return _redact(value) if split_scheme(value)[0] else value
    if isinstance(value, dict):
        return {k: redact_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_deep(v) for v in value]
    return value


def href(value: object) -> str | None:
    """``value`` redacted, when it may be a clickable link (http or https), else None."""
    if not isinstance(value, str) or not _HTTP_RE.fullmatch(value):
        return None
    return _redact(value)


def message(exc: BaseException) -> str:
    """An error for a page: the one line tether would print (URIs in it are already redacted)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return shown_name(text) or type(exc).__name__


def shown_value(value: Any) -> str:
    """A metadata value as text: strings as they are (redacted when they look
    like URIs), everything else as JSON; cut to :data:`MAX_SHOWN` characters."""
    if isinstance(value, str):
        text = _redact(value) if split_scheme(value)[0] else value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def strength(a: Asset) -> str:
    """How strongly the asset's bytes are verified on download: ``link-only``,
    the strongest checksum kind, or ``size-only``."""
    if not a.synced:
        return "link-only"
    fn = getattr(checksums, "verification_strength", None)
    if fn is not None:  # the verifier's own rule, where this tether has it
        return str(fn(a.checksums))
    return checksums.strongest(a.checksums) or ("etag" if "etag" in a.checksums else "size-only")


def pinned_uri(a: Asset) -> str | None:
    """The object URI pinned to its recorded version, in the form its driver
    reads back: ``s3://b/k?versionId=V``, ``gs://b/k#GENERATION``; else the URI."""
    if not a.synced or a.uri is None:
        return None
    scheme = split_scheme(a.uri)[0]
    if a.version_id and scheme in ("s3", "s3a"):
        return _redact(f"{a.uri}?versionId={a.version_id}")
    if a.version_id and scheme in ("gs", "gcs"):
        return _redact(f"{a.uri}#{a.version_id}")
    return _redact(a.uri)


def command(root: str | None, ref: str, dest: str = "DEST") -> str:
    """The shell command that downloads ``ref`` (with ``--catalog`` unless it is the default)."""
    parts = ["tether"]
    if root:
        parts += ["--catalog", _redact(root)]
    parts += ["download", ref, dest]
    return " ".join(shlex.quote(p) if p != dest else p for p in parts)


def asset_json(a: Asset) -> dict[str, Any]:
    """One asset for ``/api``: the same fields the page shows, links redacted."""
    return {"path": a.logical_path, "size": a.size, "synced": a.synced, "uri": redact(a.uri),
            "pinned_uri": pinned_uri(a), "link": None if a.synced else redact(a.link),
            "checksums": dict(a.checksums), "version_id": a.version_id, "strength": strength(a),
            "last_modified": a.last_modified, "metadata": redact_deep(dict(a.metadata))}
