"""The catalog: immutable, numbered versions of named artifacts, on any driver.

One module per concern:

* :mod:`.core`    – :class:`Catalog`: reading; it inherits the methods of the mixins below
* :mod:`.commit`  – ``Catalog.log``: writing the manifest and claiming the version number
* :mod:`.aliases_tags` – ``Catalog`` methods reading and moving aliases and tags
* :mod:`.version` – :class:`ArtifactVersion` (download / verify / status of one version)
* :mod:`.uploads` – content-addressed storage of files added with ``Artifact.add``
* :mod:`.status`  – comparing a version with the store now
* :mod:`.refs`    – names, tags, ``name:3`` / ``name@alias`` references
* :mod:`.claims`  – version claims and other small catalog files, read defensively
* :mod:`.lifecycle` – the Catalog methods below, and durations (``"30d"``)
* :mod:`.tombstones` – deleting versions; :mod:`.protection` – protected aliases, holds, immutable tags
* :mod:`.retention` – keep rules and stored policies; :mod:`.gc` / :mod:`.intents` – garbage collection
* :mod:`.insurance` – reference risks at log time, and ``check``

The storage layout and the claim protocol are described in :mod:`.core`.
"""

from __future__ import annotations

from .core import Catalog
from .refs import parse_ref
from .status import AssetStatus, StatusResult
from .version import ArtifactVersion, VersionInfo

__all__ = ["ArtifactVersion", "AssetStatus", "Catalog", "StatusResult", "VersionInfo", "parse_ref"]
