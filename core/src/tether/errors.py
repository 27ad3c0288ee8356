"""Every exception tether raises on purpose.

One base class, :class:`TetherError`, so callers can catch everything tether
means to raise with one ``except``. Each subclass also derives from the builtin
it is closest to (``KeyError`` for unknown names, ``ValueError`` for bad input,
``FileExistsError`` for conflicts ...), so code written against builtins keeps
working. Messages always name the artifact, asset or (redacted) URI involved.
"""

from __future__ import annotations


class TetherError(Exception):
    """Base class of all tether errors."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message, *args)
        self.message = message

    # KeyError and OSError render their args oddly; a user wants the sentence.
    def __str__(self) -> str:
        return self.message


# --- names and lookups -------------------------------------------------------
class InvalidNameError(TetherError, ValueError):
    """An artifact, alias or tag name that tether cannot store safely."""


class UnknownArtifactError(TetherError, KeyError):
    """No artifact of that name in the catalog."""


class UnknownVersionError(TetherError, KeyError):
    """The artifact exists but not that version."""


class UnknownAliasError(TetherError, KeyError):
    """The artifact has no such alias."""


class InvalidArtifactError(TetherError, ValueError):
    """An artifact that cannot be logged as built (e.g. two assets, one path)."""


# --- drivers and URIs ----------------------------------------------------------
class InvalidURIError(TetherError, ValueError):
    """A URI tether cannot parse or that the driver cannot serve."""


class NoDriverError(TetherError, LookupError):
    """No installed driver serves this URI scheme."""


class DriverNotInstalledError(NoDriverError):
    """A driver for this scheme exists but is not installed (message has the pip hint)."""


class DriverLoadError(TetherError, ImportError):
    """The plugin that serves this scheme failed to import or register."""


class DriverConflictError(TetherError, LookupError):
    """Two plugins claim the same scheme and no choice was configured."""


class ChecksumKindConflictError(TetherError, LookupError):
    """Two plugins register the same checksum kind and no choice was configured."""


class PluginError(TetherError, RuntimeError):
    """A plugin's operation hook (a wrapper or replacement) raised; the message names
    the plugin and the hook, ``.plugin`` and ``.hook`` hold them, the cause is chained."""

    def __init__(self, message: str, *, plugin: str = "", hook: str = "") -> None:
        super().__init__(message)
        self.plugin = plugin
        self.hook = hook


class ConfigError(TetherError, ValueError):
    """Bad configuration (unknown option, unreadable config file ...)."""


class InvalidArgumentError(TetherError, ValueError):
    """An argument out of its range (``workers=0`` ...), refused before anything is done."""


# --- remote objects --------------------------------------------------------------
class ObjectNotFoundError(TetherError, FileNotFoundError):
    """The URI names no object (nor any object under it as a prefix)."""


class VersionGoneError(ObjectNotFoundError):
    """The recorded version of an asset no longer exists in the store."""


class AccessDeniedError(TetherError, PermissionError):
    """The store refused access (missing or insufficient credentials)."""


class SchemeNotAllowedError(TetherError, PermissionError):
    """A catalog on another machine names sources on this one (``file://``) that
    the user has not allowed (``TETHER_ALLOW_SCHEMES``)."""


class ReadOnlyError(TetherError, PermissionError):
    """A write through a read-only view of a version (the ``tether://`` filesystem):
    a logged version never changes; log a new one instead."""


class AlreadyExistsError(TetherError, FileExistsError):
    """A create-if-absent write found the object already there."""


class TooManyObjectsError(TetherError, ValueError):
    """Resolving a prefix found more objects than ``max_objects`` allows."""


class StorageError(TetherError, OSError):
    """The store failed in a way that retries did not cure."""


# --- integrity ----------------------------------------------------------------------
class IntegrityError(TetherError, ValueError):
    """Bytes that are not the recorded bytes."""


class ChecksumMismatchError(IntegrityError):
    """Size or checksum of fetched bytes differs from the manifest."""


class DriftError(IntegrityError):
    """The remote object changed since it was logged and no version pins the old bytes."""


class SourceChangedError(IntegrityError):
    """A local file changed while it was being logged: the bytes read to upload
    it are not the bytes whose checksum was recorded. Nothing is stored under
    its content address and no version is recorded."""


class UnverifiedAssetError(IntegrityError):
    """``require_verified``: an asset has no checksum tether can recompute (size only)."""


# --- local side -----------------------------------------------------------------------
class UnsafePathError(TetherError, ValueError):
    """A logical path that would escape the destination folder."""


class DestinationConflictError(TetherError, FileExistsError):
    """Files already exist at the destination and ``overwrite="fail"``."""


class ManifestError(TetherError, ValueError):
    """A manifest that is not valid JSON of a schema this tether reads."""


class DownloadError(TetherError):
    """Some assets could not be downloaded; ``result`` lists every outcome."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


# --- conditional overwrites and runs ---------------------------------------------------
class PreconditionFailedError(AlreadyExistsError):
    """A conditional overwrite (``Driver.write_bytes_if_match``) lost: the object
    changed since it was read. Read it again, re-apply the change, retry."""


class UnknownRunError(TetherError, KeyError):
    """The catalog has no run with that id."""


class RunDataError(TetherError, ValueError):
    """Run params, metadata or summary that are not JSON-serialisable or too large."""


class ExtraNotInstalledError(TetherError, ImportError):
    """An optional feature whose extra is not installed (the message has the pip line)."""


# --- lifecycle: deletion, protection, reference insurance ----------------------------
class VersionDeletedError(UnknownVersionError):
    """The version was deleted (``catalog.delete``); ``tombstone`` says when, by whom and why.

    An :class:`UnknownVersionError` (and so a ``KeyError``): code that treats
    a missing version as missing keeps working, and code that wants to say
    "deleted version" rather than "broken reference" catches this one."""

    def __init__(self, message: str, tombstone: object = None) -> None:
        super().__init__(message)
        self.tombstone = tombstone


class VersionInUseError(TetherError, ValueError):
    """A version cannot be deleted while an alias points at it (move or remove the alias first)."""


class ProtectedAliasError(TetherError, PermissionError):
    """Moving or removing a protected alias needs ``force=True`` (``--force``)."""


class ImmutableTagError(TetherError, PermissionError):
    """An immutable tag cannot move to another version, nor its name be reused, without ``force=True``."""


class ReferenceRiskError(TetherError, ValueError):
    """``strict`` logging refused a reference the store may not keep (versioning off, expiring
    versions, a bucket whose settings the credentials cannot read)."""


class HoldNotSupportedError(TetherError, NotImplementedError):
    """The store cannot place a hold on (exactly) this object version."""


# --- catalogs, tags (appended) --------------------------------------------------------
class CatalogNotFoundError(UnknownArtifactError, ObjectNotFoundError):
    """A catalog named explicitly (a folder, a bucket) does not exist: reading it
    is an error rather than an empty list, so a typo cannot pass for an empty
    catalog. An :class:`UnknownArtifactError` (no artifact can be found in it)
    and an :class:`ObjectNotFoundError` (``FileNotFoundError``)."""


class UnknownTagError(TetherError, KeyError):
    """The version has no such tag (``remove_tags``)."""
