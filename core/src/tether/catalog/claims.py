"""Version claims and the other small JSON files of a catalog, read defensively.

A catalog on an object store is written by everyone who can write to the
bucket, so its files are input: each is parsed with bounded recursion and its
fields type-checked here, once, and a damaged one becomes a one-line
:class:`~tether.errors.ManifestError` naming it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ..errors import ManifestError
from ..models import VERSION_SCHEMA
from ..uris import redact

#: Claim fields with the type each must have when present (older claims may lack some).
_STRINGS = ("name", "manifest", "created_at", "digest", "log_id")
_COUNTS = ("asset_count", "total_size")


def load_json(raw: bytes, what: str) -> Any:
    """``json.loads`` that fails only with :class:`ManifestError`.

    Deeply nested input makes the standard parser raise ``RecursionError``;
    it is damage like any other, not a crash."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        why = "is nested too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON: {exc}"
        raise ManifestError(f"{what} {why}") from None


def new_log_id() -> str:
    """An identity for one ``Catalog.log`` call, recorded in the claim it writes."""
    return secrets.token_hex(16)


def make_claim(*, name: str, version: int, manifest: str, created_at: str, digest: str,
               asset_count: int, total_size: int, log_id: str, created_by_run: str | None = None) -> bytes:
    doc: dict[str, Any] = {"schema": VERSION_SCHEMA, "name": name, "version": version, "manifest": manifest,
                           "created_at": created_at, "digest": digest, "asset_count": asset_count,
                           "total_size": total_size, "log_id": log_id}
    if created_by_run is not None:  # absent outside runs: claims written there keep their bytes
        doc["created_by_run"] = created_by_run
    return json.dumps(doc, indent=1).encode()


def parse_claim(raw: bytes, uri: str) -> dict[str, Any]:
    """A version claim's fields, type-checked: strings are strings, counts are
    non-negative integers. Anything else is a ManifestError naming the file."""
    where = f"version claim {redact(uri)}"
    doc = load_json(raw, where)
    if not isinstance(doc, dict) or doc.get("schema") != VERSION_SCHEMA:
        schema = doc.get("schema") if isinstance(doc, dict) else None
        shown = schema if isinstance(schema, str) else type(schema).__name__
        raise ManifestError(f"{where} has unsupported schema {shown[:40]!r}")
    for key in _STRINGS:
        if key in doc and not isinstance(doc[key], str):
            raise ManifestError(f"{where}: {key!r} must be a string, not {type(doc[key]).__name__}")
    for key in _COUNTS:
        value = doc.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ManifestError(f"{where}: {key!r} must be a non-negative integer, "
                                f"not {value if isinstance(value, int) else type(value).__name__}")
    return doc


def is_ours(claim: dict[str, Any], manifest: str, log_id: str) -> bool:
    """True when ``claim`` was written by the log call with this identity and manifest:
    a create-if-absent write whose answer was lost, then retried, finds itself."""
    return claim.get("log_id") == log_id and claim.get("manifest") == manifest
