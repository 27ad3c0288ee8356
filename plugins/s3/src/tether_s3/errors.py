"""How tether-s3 reads a failed S3 request: the error code behind an exception
(s3fs wraps botocore's), and the typed :mod:`tether.errors` exception a user
sees for it, naming the URI or asset (redacted) and never the raw traceback."""

from __future__ import annotations

from tether.driverkit import redact
from tether.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    DriftError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
    VersionGoneError,
)
from tether.models import Asset

#: Error codes of stores that do not implement a bucket-setting call (R2, some MinIO setups).
_UNSUPPORTED = ("NotImplemented", "MethodNotAllowed", "XNotImplemented")

def _error_code(exc: BaseException) -> tuple[str | None, int | None]:
    """The S3 error code and HTTP status behind an exception (s3fs wraps them)."""
    seen: BaseException | None = exc
    while seen is not None:
        resp = getattr(seen, "response", None)
        if isinstance(resp, dict) and "Error" in resp:
            status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return resp["Error"].get("Code"), status
        name = type(seen).__name__
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            return "NoCredentials", None
        seen = seen.__cause__ or seen.__context__
    return None, None


def _translate(exc: BaseException, uri: str, *, asset: Asset | None = None,
               create: bool = False) -> BaseException:
    if isinstance(exc, TetherError):
        return exc  # already ours (a ConfigError from building the client, ...)
    code, status = _error_code(exc)
    where = f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)
    if code in ("NoSuchVersion",) or (code == "InvalidArgument" and asset and asset.version_id):
        return VersionGoneError(f"{where}: recorded version {asset.version_id if asset else ''} no longer exists")
    if code in ("NoSuchKey", "NotFound", "404") or status == 404:
        if asset is not None and asset.version_id:
            return VersionGoneError(f"{where}: recorded version {asset.version_id} no longer exists")
        if code == "NoSuchBucket":
            return ObjectNotFoundError(f"{where}: no such bucket")
        return ObjectNotFoundError(f"{where}: no such object")
    if code == "NoSuchBucket":
        return ObjectNotFoundError(f"{where}: no such bucket")
    if code in ("PreconditionFailed", "412") or status == 412:
        if create:
            return AlreadyExistsError(f"{where} already exists")
        return DriftError(f"{where} changed since it was logged (ETag no longer matches) and no "
                          "version id pins the recorded bytes")
    if code == "NoCredentials":
        return AccessDeniedError(f"{where}: no AWS credentials found (environment, profile or instance role)")
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AllAccessDisabled") \
            or status == 403:
        return AccessDeniedError(f"{where}: access denied ({code})")
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(f"{where}: no such object")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"{where}: access denied")
    if isinstance(exc, FileExistsError) and create:
        return AlreadyExistsError(f"{where} already exists")
    return StorageError(f"{where}: S3 request failed ({code or type(exc).__name__})")
