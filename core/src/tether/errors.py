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
