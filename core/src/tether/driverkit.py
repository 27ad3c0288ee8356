"""driverkit: everything a driver author imports from tether, in one public module.

A driver (``docs/plugins.md``) imports from :mod:`tether` (``Driver``,
``hookimpl``), :mod:`tether.errors`, :mod:`tether.models`,
:mod:`tether.options`, :mod:`tether.hookspecs`, :mod:`tether.objectstore`,
:mod:`tether.checksum_kinds` and this module; every other
module of tether is internal and may change in any release. The names in
:data:`__all__` keep their meaning and signature within a minor series
(tether 0.1.x), so a driver that depends on ``tether>=0.1,<0.2`` keeps working.
The in-tree drivers (``tether-local``, ``-s3``, ``-gcs``, ``-azure``, ``-http``)
are held to the same rule by ``tests/core/test_driverkit.py``.

The helpers, by what a driver does with them:

* the base classes and what their methods return: :class:`Driver`,
  :class:`ObjectStoreDriver` (an object store supplies seven store calls),
  :class:`ListPage`, :data:`NO_FSSPEC_CACHES`, :class:`Resolution`,
  :class:`RiskReport`, :class:`StoredObject`
* listing: :data:`DEFAULT_MAX_OBJECTS`, :func:`check_cap`, :func:`too_many`,
  :func:`folder_prefix`, :func:`iso_time`, :func:`iso_time_ns`,
  :func:`epoch_of`, progress (:func:`advance`, :func:`expect`,
  :func:`active`, :func:`progress_bound`), :func:`gc_paused`,
  :func:`parallel_map`, :class:`ObjectRows` (a lazy listing of many files),
  :func:`list_objects` (a listing routed through the ``tether_list`` hook)
* checksums a store reports: :data:`CHUNK`, :class:`MultiHasher`,
  :func:`hash_file`, :func:`b64_to_hex`, :func:`multipart_parts`,
  :func:`uniform_part_size`, :class:`MultipartEtag`, :class:`Crc64Nvme`
  (new checksum kinds are declared with :class:`tether.checksum_kinds.ChecksumKind`)
* the upload contract: :class:`SourceReader`, :func:`source_changed`,
  :func:`source_removed`, :func:`local_size`, :func:`local_matches`,
  :func:`staging_name`, :func:`is_stale`, :data:`STALE_AFTER`, :data:`TMP_MARK`
* the catalog primitives: :func:`content_token`, :func:`write_atomic`,
  :func:`fsync_dir`
* options: :class:`OptionReader`, :func:`option_origin`,
  :func:`driver_options`, :func:`bool_option`, :func:`config_generation`
  (declare them with :class:`tether.options.Option`)
* URIs and secrets: :func:`redact`, :func:`split_scheme`,
  :func:`is_secret_name`, :func:`secret_spans`
* drivers of local files: :class:`Excludes`, :func:`scan`, :func:`get_cache`,
  :func:`shown_name`

The objects are tether's own (re-exported, not copies), so a driver and core
agree on them: a ``TooManyObjectsError`` from :func:`too_many` reads like
core's, a name from :func:`staging_name` is swept by core's garbage collection.
"""

from __future__ import annotations

from typing import Final

from . import atomic as _atomic
from . import checksums as _checksums
from . import objectstore as _objectstore
from . import staging as _staging
from .atomic import fsync_dir, write_atomic
from .checksums import MultiHasher, MultipartEtag, b64_to_hex, hash_file, multipart_parts, uniform_part_size
from .config import OptionReader, bool_option, driver_options, option_origin
from .config import generation as config_generation
from .crc64 import Crc64Nvme
from .driver import (
    Driver,
    Resolution,
    RiskReport,
    StoredObject,
    check_cap,
    content_token,
    epoch_of,
    folder_prefix,
    iso_time,
    iso_time_ns,
    too_many,
)
from .driver import limits as _limits
from .localtree import Excludes, scan
from .nogc import gc_paused
from .objectstore import ListPage, ObjectStoreDriver
from .operations import list_objects
from .parallel import parallel_map
from .paths import shown_name
from .progress import active, advance, expect
from .progress import bound as progress_bound
from .rows import ObjectRows
from .staging import (
    SourceReader,
    is_stale,
    local_matches,
    local_size,
    source_changed,
    source_removed,
    staging_name,
)
from .statecache import get_cache
from .uris import is_secret_name, redact, secret_spans, split_scheme

#: The default cap on how many objects one URI may resolve to (``max_objects``):
#: the default of ``Driver.list``/``resolve``'s ``max_objects`` argument.
DEFAULT_MAX_OBJECTS: Final[int] = _limits.DEFAULT_MAX_OBJECTS

#: Bytes per read when streaming a file or an object (1 MiB); ``Driver.part_size``
#: defaults to 16 of them.
CHUNK: Final[int] = _checksums.CHUNK

#: Seconds after which a staged copy (a :func:`staging_name`) counts as abandoned
#: by a killed upload and may be removed (:func:`is_stale`, ``remove_stale_uploads``).
STALE_AFTER: Final[float] = _staging.STALE_AFTER

#: The marker in every temporary name tether writes (staged uploads, atomic
#: writes, locks): a name containing it is never an object a listing of tether's
#: own folders returns, and garbage collection may remove it once stale.
TMP_MARK: Final[str] = _atomic.TMP_MARK

#: What an object-store driver passes to the fsspec filesystem it builds: no
#: instance shared with other code and no listing cache (a stale listing hides
#: another process's new catalog version).
NO_FSSPEC_CACHES: Final[dict[str, object]] = _objectstore.NO_FSSPEC_CACHES

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_OBJECTS",
    "NO_FSSPEC_CACHES",
    "STALE_AFTER",
    "TMP_MARK",
    "Crc64Nvme",
    "Driver",
    "Excludes",
    "ListPage",
    "MultiHasher",
    "MultipartEtag",
    "ObjectRows",
    "ObjectStoreDriver",
    "OptionReader",
    "Resolution",
    "RiskReport",
    "SourceReader",
    "StoredObject",
    "active",
    "advance",
    "b64_to_hex",
    "bool_option",
    "check_cap",
    "config_generation",
    "content_token",
    "driver_options",
    "epoch_of",
    "expect",
    "folder_prefix",
    "fsync_dir",
    "gc_paused",
    "get_cache",
    "hash_file",
    "is_secret_name",
    "is_stale",
    "iso_time",
    "iso_time_ns",
    "list_objects",
    "local_matches",
    "local_size",
    "multipart_parts",
    "option_origin",
    "parallel_map",
    "progress_bound",
    "redact",
    "scan",
    "secret_spans",
    "shown_name",
    "source_changed",
    "source_removed",
    "split_scheme",
    "staging_name",
    "too_many",
    "uniform_part_size",
    "write_atomic",
]
