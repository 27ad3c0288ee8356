"""The ``Driver`` base class and what comes with it, by concern.

* :mod:`.base` – :class:`Driver` itself (URIs, the filesystem cache, options,
  error translation, listing, resolving, reading) and :class:`Resolution`
* :mod:`.uploads` – the upload contract's defaults (``upload``, ``holds``,
  ``remove_stale_uploads``)
* :mod:`.catalog` – the catalog primitives (``read_bytes``, ``write_bytes``,
  the conditional overwrite, ``list_names``, ``delete``, ``exists``)
* :mod:`.lifecycle` – ``inventory``, ``delete_exact``, ``stat_version``,
  ``reference_risks``, ``set_hold``, with :class:`RiskReport` and :class:`StoredObject`
* :mod:`.translation` – wrapping every operation so its errors are translated
* :mod:`.times`, :mod:`.limits`, :mod:`.names` – timestamps, the ``max_objects``
  cap, folder prefixes and globs

Every name importable from ``tether.driver`` before it became a package still
is. Driver authors import from :mod:`tether` and :mod:`tether.driverkit`.
"""

from __future__ import annotations

from .base import Driver, Resolution
from .catalog import CatalogMixin, content_token
from .lifecycle import LifecycleMixin, RiskReport, StoredObject
from .limits import DEFAULT_MAX_OBJECTS, check_cap, too_many
from .names import GLOB_CHARS, folder_prefix, glob_regex, local_abspath
from .times import epoch_of, iso_time, iso_time_ns
from .translation import TRANSLATED, translate_operations
from .uploads import UploadMixin

__all__ = [
    "DEFAULT_MAX_OBJECTS",
    "GLOB_CHARS",
    "TRANSLATED",
    "CatalogMixin",
    "Driver",
    "LifecycleMixin",
    "Resolution",
    "RiskReport",
    "StoredObject",
    "UploadMixin",
    "check_cap",
    "content_token",
    "epoch_of",
    "folder_prefix",
    "glob_regex",
    "iso_time",
    "iso_time_ns",
    "local_abspath",
    "too_many",
    "translate_operations",
]
