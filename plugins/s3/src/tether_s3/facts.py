"""Facts about a bucket tether-s3 needs and asks S3 for once: whether it keeps
versions (then listings come from ListObjectVersions) and whether its ETags
are MD5s (not under SSE-KMS / SSE-C). Mixed into :class:`tether_s3.S3Driver`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tether.driverkit import config_generation
from tether.errors import AccessDeniedError, TetherError

from .errors import _UNSUPPORTED, _error_code, _translate

_UNKNOWN = object()


class BucketFacts:
    """Bucket settings, cached per bucket and configuration. The driver sets
    ``_bucket_facts`` and ``_facts_lock`` and supplies ``_call``."""

    _bucket_facts: dict[tuple[str, str, Any], Any]
    _facts_lock: threading.Lock

    if TYPE_CHECKING:
        def _call(self, bucket: str, method: str, **kw: Any) -> Any: ...

    def _fact(self, bucket: str, name: str, compute: Any) -> Any:
        """A bucket setting, asked once per bucket and configuration (a new
        ``configure()`` asks again). ``compute`` raising caches nothing: an
        error, a missing credential or a bad option is never remembered as an answer."""
        # No lock to read a fact known already (a dict read is atomic): asked once per listed key.
        key = (bucket, name, config_generation())
        value = self._bucket_facts.get(key, _UNKNOWN)
        if value is not _UNKNOWN:
            return value
        value = compute()
        with self._facts_lock:
            self._bucket_facts[key] = value
        return value

    def _setting(self, bucket: str, method: str, unset: tuple[str, ...]) -> dict[str, Any] | None:
        """One bucket-setting request. None when the credentials may not read it
        or the store does not implement it (an answer: nothing to know);
        ``unset`` are the error codes meaning "not configured" ({} then). Any
        other failure raises: a ConfigError from building the client, missing
        credentials, a missing bucket, a transient failure."""
        try:
            return self._call(bucket, method)
        except TetherError:
            raise
        except Exception as exc:
            code, _ = _error_code(exc)
            if code in unset:
                return {}
            if code != "NoCredentials" and (code in _UNSUPPORTED or isinstance(
                    _translate(exc, f"s3://{bucket}/"), AccessDeniedError)):
                return None
            raise  # the caller's translating() names the URI it was asked about

    def versioned(self, bucket: str) -> bool:
        """True when the bucket keeps versions (Enabled or Suspended): then the
        listing must come from ListObjectVersions to carry version ids. False
        when the credentials may not ask (the listing then has no version ids)."""
        def compute() -> bool:
            resp = self._setting(bucket, "get_bucket_versioning", ())
            return bool(resp) and resp.get("Status") in ("Enabled", "Suspended")

        return bool(self._fact(bucket, "versioned", compute))

    def etag_is_md5(self, bucket: str) -> bool:
        """ETags of single-part uploads are MD5s, except under SSE-KMS / SSE-C."""
        def compute() -> bool:
            resp = self._setting(bucket, "get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",))
            rules = (resp or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            algos = {r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
            return not any(a and "kms" in a for a in algos)

        return bool(self._fact(bucket, "etag_md5", compute))
