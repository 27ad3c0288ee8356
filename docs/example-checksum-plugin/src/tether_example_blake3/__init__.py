"""A checksum kind as a plugin: BLAKE3, recorded as ``blake3`` and verified on download.

Install it and a manifest row may carry ``"checksums": {"blake3": "<64 hex>"}``:
``tether download`` / ``verify`` / ``tether://`` reads recompute it while the
bytes stream in, exactly as they do ``sha256``, and a mismatch is a
``ChecksumMismatchError`` naming the asset. Without the plugin the same
manifest still reads; the kind is shown and kept, never trusted.

``strength`` places it among the built-ins (``sha256`` 400, ``sha512`` 380,
``sha1`` 300, ``md5`` 200, the CRCs 110-130): 390, a cryptographic hash, but
``sha256`` stays the first choice when both are recorded.
"""

from __future__ import annotations

import tether
from tether.checksum_kinds import ChecksumKind, hex_text


def _new_hasher():
    import blake3  # imported when bytes are hashed, not when tether loads its plugins

    return blake3.blake3()


BLAKE3 = ChecksumKind("blake3", 390, _new_hasher, hex_text(32), "BLAKE3, 256-bit digest (example plugin)")


@tether.hookimpl
def tether_register_checksums() -> list[ChecksumKind]:
    return [BLAKE3]
