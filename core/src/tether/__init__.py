"""tether: versioned remote artifacts whose bytes stay where they live.

>>> import tether
>>> art = tether.Artifact("training-data", type="dataset")
>>> art.add_remote("s3://bucket/train/")
>>> v = tether.Catalog().log(art, aliases=["candidate"])
>>> v.download("./data")

This module is the facade: everything a user or a plugin author needs is
importable from here. It stays light; no cloud SDK is imported until a driver
for its scheme is used.
"""

from __future__ import annotations

from . import errors
from .artifact import Artifact, InPlaceWarning, LinkOnlyWarning
from .catalog import ArtifactVersion, AssetStatus, Catalog, StatusResult, VersionInfo
from .catalog.lineage import Lineage
from .catalog.runs import Edge, RunInfo
from .config import configure
from .driver import Driver, Resolution
from .hookspecs import hookimpl
from .models import Asset, RemoteObject
from .objectstore import ListPage, ObjectStoreDriver
from .plugins import get_driver
from .run import Run
from .selection import shard_paths
from .transfer import DownloadResult, RetryPolicy, VerifyResult

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactVersion",
    "Asset",
    "AssetStatus",
    "Catalog",
    "DownloadResult",
    "Driver",
    "Edge",
    "InPlaceWarning",
    "Lineage",
    "LinkOnlyWarning",
    "ListPage",
    "ObjectStoreDriver",
    "RemoteObject",
    "Resolution",
    "RetryPolicy",
    "Run",
    "RunInfo",
    "StatusResult",
    "VerifyResult",
    "VersionInfo",
    "configure",
    "errors",
    "get_driver",
    "hookimpl",
    "shard_paths",
]
