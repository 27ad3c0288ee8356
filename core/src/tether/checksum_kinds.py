"""The checksum kinds a manifest's ``checksums`` may name, and the table of them.

A kind is a :class:`ChecksumKind`: its name, how strong a check it is (a rank
on one scale with the built-ins), a factory for an incremental hasher, the text
form of its recorded value and a one-line description. Core's built-in kinds
(below) and any a plugin adds come through one hook,
``tether_register_checksums``, so a plugin kind is computed, recorded and
verified exactly like a built-in one (:mod:`tether.checksums` asks the table).

Built-in ranks (higher is stronger; a plugin places its kind among them)::

    sha256 400 > sha512 380 > sha1 300 > md5 200 > multipart-etag 150
      > crc32c 120 > crc32 110 > etag 0 (recorded, never recomputed)

A cryptographic hash a plugin adds sits at 300-399, a 64-bit CRC at 130
(tether-s3's ``crc64nvme``, tether-azure's ``crc64``). ``sha256`` stays the
first choice: it is the hash tether itself computes when it uploads or hashes.

A kind no installed plugin registers may still appear in a manifest (written
where that plugin was installed, or by hand): it is read, shown and written
back unchanged, and never trusted to verify anything, the way git keeps
unknown header fields and rsync ignores checksums it cannot compute. An asset
whose only checksum is such a kind is ``size-only``. Its name must still look
like a kind name (:data:`KIND_NAME_RE`) and its value be short printable
text, so a hostile manifest cannot smuggle control characters into output.

Two plugins registering one name is a conflict: the kind is unusable (any use
raises :class:`~tether.errors.ChecksumKindConflictError` naming both) until
``TETHER_CHECKSUM_<KIND>=<plugin>`` picks one, the rule for schemes. A plugin
may not redefine a built-in kind: such a plugin fails to load.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import attrs

from .errors import ChecksumKindConflictError
from .hookspecs import hookimpl

#: What a checksum kind may be called: it is a key of every manifest row.
KIND_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: The longest recorded value of any kind (a multipart ETag is 32 + 6 characters).
MAX_VALUE_CHARS = 512
_PRINTABLE = re.compile(rf"[\x21-\x7e]{{1,{MAX_VALUE_CHARS}}}")

#: Ranks of the built-in strengths (see the module docstring).
RANK_SHA256, RANK_SHA512, RANK_SHA1, RANK_MD5 = 400, 380, 300, 200
RANK_MULTIPART = 150
RANK_CRC64, RANK_CRC32C, RANK_CRC32 = 130, 120, 110


class Hasher(Protocol):
    """What a kind's factory returns: fed bytes-like pieces (``bytes`` or ``memoryview``) in order."""

    def update(self, data: bytes, /) -> object: ...
    def hexdigest(self) -> str: ...


def hex_text(nbytes: int) -> str:
    """The text form of an ``nbytes``-byte digest stored as lower-case hex."""
    return f"[0-9a-f]{{{2 * nbytes}}}"


def _check_name(_inst: object, _attr: object, value: str) -> None:
    if not isinstance(value, str) or not KIND_NAME_RE.fullmatch(value):
        raise ValueError(f"invalid checksum kind name {value!r} (lower-case letters, digits, '-', '_'; "
                         f"at most 32 characters)")


@attrs.frozen
class ChecksumKind:
    """One kind of checksum a manifest may record (see the module docstring).

    ``hasher`` makes a fresh incremental hasher (``update(bytes-like)``,
    ``hexdigest() -> str`` in the kind's text form); None for a kind that is
    recorded but cannot be recomputed from bytes (``etag``), which never
    verifies anything. ``text`` is a regular expression the whole recorded
    value matches (:func:`hex_text` for hex digests); a manifest whose value
    does not is refused. ``strength`` ranks it against the built-ins."""

    name: str = attrs.field(validator=_check_name)
    strength: int
    hasher: Callable[[], Hasher] | None
    text: str
    description: str
    _text_re: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_text_re", re.compile(self.text))

    @property
    def verifiable(self) -> bool:
        return self.hasher is not None and self.strength > 0

    def valid(self, value: str) -> bool:
        """True when ``value`` is in this kind's text form."""
        return isinstance(value, str) and len(value) <= MAX_VALUE_CHARS and bool(self._text_re.fullmatch(value))

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "strength": self.strength, "verifiable": self.verifiable,
                "description": self.description}


def unknown_value_ok(value: str) -> bool:
    """A value of a kind nobody registers: kept only if short printable ASCII."""
    return isinstance(value, str) and bool(_PRINTABLE.fullmatch(value))


# ------------------------------------------------------------------- built-ins
class Crc32c:
    """CRC32C (Castagnoli) with google-crc32c's C code when installed."""

    def __init__(self) -> None:
        try:
            import google_crc32c  # heavy-ish, only drivers that record crc32c install it

            self._impl = google_crc32c.Checksum()
        except ImportError:  # pragma: no cover - exercised only without the wheel
            self._impl = None
            self._crc = 0

    def update(self, data: bytes) -> None:
        if self._impl is not None:
            # the C extension takes only read-only buffers (bytes), not memoryviews
            self._impl.update(data if isinstance(data, bytes) else bytes(data))
        else:
            self._crc = _crc32c_py(self._crc, data)

    def hexdigest(self) -> str:
        if self._impl is not None:
            return self._impl.digest().hex()
        return f"{self._crc:08x}"


_TABLE: list[int] | None = None


def _crc32c_py(crc: int, data: bytes) -> int:
    global _TABLE
    if _TABLE is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        _TABLE = table
    t = _TABLE
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class Crc32:
    """CRC32 (zlib's): S3's default additional checksum on recent SDKs."""

    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def hexdigest(self) -> str:
        return f"{self._crc:08x}"


def _hashlib(name: str) -> Callable[[], Hasher]:
    return lambda: hashlib.new(name)


BUILTIN_KINDS: tuple[ChecksumKind, ...] = (
    ChecksumKind("sha256", RANK_SHA256, _hashlib("sha256"), hex_text(32), "SHA-256: what tether computes"),
    ChecksumKind("sha512", RANK_SHA512, _hashlib("sha512"), hex_text(64), "SHA-512 (HTTP Repr-Digest)"),
    ChecksumKind("sha1", RANK_SHA1, _hashlib("sha1"), hex_text(20), "SHA-1 (S3 additional checksum)"),
    ChecksumKind("md5", RANK_MD5, _hashlib("md5"), hex_text(16), "MD5 (single-part ETags, Content-MD5)"),
    ChecksumKind("crc32c", RANK_CRC32C, Crc32c, hex_text(4), "CRC32C (GCS, S3 additional checksum)"),
    ChecksumKind("crc32", RANK_CRC32, Crc32, hex_text(4), "CRC32 (S3 additional checksum)"),
    ChecksumKind("etag", 0, None, rf"[^\x00-\x1f\x7f]{{0,{MAX_VALUE_CHARS}}}",
                 "the store's ETag: identifies a version; recomputed only as a multipart ETag"),
)


@hookimpl
def tether_register_checksums() -> list[ChecksumKind]:
    """Core's own kinds, registered like any plugin's (plugin name ``tether.checksums``)."""
    return list(BUILTIN_KINDS)


# ----------------------------------------------------------------------- table
class KindTable:
    """Every registered kind, by name, ranked; built once per plugin registry.

    ``registrations`` is ``(plugin name, kind)`` in registration order."""

    def __init__(self, registrations: Iterable[tuple[str, ChecksumKind]]) -> None:
        by_name: dict[str, list[tuple[str, ChecksumKind]]] = {}
        for plugin, kind in registrations:
            by_name.setdefault(kind.name, []).append((plugin, kind))
        self.kinds: dict[str, ChecksumKind] = {}
        self.plugin_of: dict[str, str] = {}
        #: kind name -> the plugins that all register it (none chosen).
        self.conflicts: dict[str, list[str]] = {}
        for name, regs in by_name.items():
            chosen = [r for r in regs if r[0] == os.environ.get(choice_env(name))] if len(regs) > 1 else regs
            if len(chosen) != 1:
                self.conflicts[name] = [p for p, _ in regs]
                continue
            self.plugin_of[name], self.kinds[name] = chosen[0]
        ranked = sorted((k for k in self.kinds.values() if k.verifiable), key=lambda k: (-k.strength, k.name))
        #: Verifiable kinds stronger than a multipart ETag, strongest first; then the weaker ones.
        self.above_multipart = tuple(k.name for k in ranked if k.strength > RANK_MULTIPART)
        self.below_multipart = tuple(k.name for k in ranked if k.strength <= RANK_MULTIPART)
        self.ranked = self.above_multipart + self.below_multipart

    def get(self, name: str) -> ChecksumKind | None:
        """The kind registered as ``name``; None when nobody registers it.
        Raises :class:`ChecksumKindConflictError` for a conflicted name."""
        if name in self.conflicts:
            raise self.conflict_error(name)
        return self.kinds.get(name)

    def check_conflicts(self, checksums: Mapping[str, str]) -> None:
        """Refuse checksums that name a conflicted kind: neither plugin's verifier is trusted."""
        if self.conflicts and not self.conflicts.keys().isdisjoint(checksums):
            raise self.conflict_error(next(n for n in checksums if n in self.conflicts))

    def conflict_error(self, name: str) -> ChecksumKindConflictError:
        names = ", ".join(repr(p) for p in self.conflicts[name])
        return ChecksumKindConflictError(f"plugins {names} all register checksum kind {name!r}; choose one "
                                         f"with {choice_env(name)}=<plugin name> or uninstall the others")


def choice_env(name: str) -> str:
    """The variable that picks one plugin's kind ``name`` when several register it."""
    return "TETHER_CHECKSUM_" + name.upper().replace("-", "_")


#: The built-in table, for code that runs without a plugin registry.
BUILTIN_TABLE = KindTable(("tether.checksums", k) for k in BUILTIN_KINDS)
