"""Verified uploads to S3: bytes appear at a key only once they are known to
be the bytes whose sha256 names it (the :meth:`tether.Driver.upload` contract).

* Up to :data:`PART_SIZE`: one PutObject carrying ``ChecksumSHA256`` of the
  expected digest. S3 computes the SHA-256 of the body it received and
  rejects a mismatch (``BadDigest``): a file changed under the upload or a
  request damaged on the way stores nothing. tether also hashes the body
  before sending it, so a changed file is a clear error without a request.
* Larger: a multipart upload with ``ChecksumAlgorithm=SHA256``, each part
  carrying the SHA-256 of the bytes actually read (S3 verifies each part);
  the sha256 of everything read is compared with the expected digest before
  CompleteMultipartUpload, and on a mismatch (or any error) the upload is
  aborted. Parts of an incomplete upload are never visible as an object.

The part size is the AWS SDKs' default (8 MiB), grown for files that would
need more than S3's 10,000 parts. Where a server reports part ETags as MD5s,
each is also compared with the MD5 of the part sent (servers that do not
check ``ChecksumSHA256``, like some S3 emulators, still cannot store damage).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import TYPE_CHECKING, Any

import attrs
from tether.driverkit import (
    STALE_AFTER,
    MultipartEtag,
    SourceReader,
    folder_prefix,
    local_matches,
    local_size,
    redact,
    source_changed,
    source_removed,
)
from tether.errors import ChecksumMismatchError, ObjectNotFoundError, TetherError
from tether.models import RemoteObject

if TYPE_CHECKING:
    from . import S3Driver

MiB = 1 << 20
PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
_MULTIPART_ETAG = re.compile(r"[0-9a-f]{32}-(\d+)")
_MD5 = re.compile(r"[0-9a-f]{32}")
# What S3 answers when a body does not match the checksum sent with it.
_DIGEST_CODES = ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest")


def part_size_for(size: int) -> int:
    """8 MiB, or the smallest whole MiB that fits ``size`` in 10,000 parts."""
    need = -(-size // MAX_PARTS)
    return max(PART_SIZE, -(-need // MiB) * MiB)


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _call(drv: S3Driver, uri: str, bucket: str, method: str, **kw: Any) -> Any:
    from . import _error_code

    try:
        return drv._call(bucket, method, **kw)
    except Exception as exc:  # noqa: BLE001 - becomes a tether error naming the URI
        code, _ = _error_code(exc)
        if code in _DIGEST_CODES:
            raise ChecksumMismatchError(f"{redact(uri)}: S3 received other bytes than were sent ({code}); "
                                        "nothing was stored") from None
        raise drv.translate_error(exc, uri) from None


def upload(drv: S3Driver, local_path: str, uri: str, sha256: str) -> RemoteObject:
    bucket, key = drv.split(drv.path_of(uri))
    with SourceReader(local_path, sha256, ("md5",)) as src:
        if src.size_at_open <= PART_SIZE:
            resp = _put_single(drv, uri, bucket, key, src)
        else:
            resp = _put_multipart(drv, uri, bucket, key, src)
        size = src.read_size
    etag = _etag(resp.get("ETag"))
    vid = resp.get("VersionId") if drv.versioned(bucket) else None
    # Read back what S3 now describes (checksums, time, whatever head()
    # records); if another writer replaced the key since, describe our upload.
    obj = drv.head(bucket, key, version_id=vid)
    if obj is None or obj.checksums.get("etag") != etag:
        obj = drv._object(bucket, key, size=size, etag=etag, version_id=vid, modified=None)
    return attrs.evolve(obj, checksums={**obj.checksums, "sha256": sha256})


def _put_single(drv: S3Driver, uri: str, bucket: str, key: str, src: SourceReader) -> dict[str, Any]:
    data = src.read(PART_SIZE + 1)
    if len(data) > PART_SIZE:
        raise source_changed(src.path)  # grew past a single part since it was opened
    sums = src.check()
    resp = _call(drv, uri, bucket, "put_object", Key=key, Body=data, ChecksumAlgorithm="SHA256",
                 ChecksumSHA256=_b64(sums["sha256"]))
    etag = _etag(resp.get("ETag")) or ""
    if _MD5.fullmatch(etag) and drv.etag_is_md5(bucket) and etag != sums["md5"]:
        # Only a server that ignores ChecksumSHA256 gets here: remove the damage.
        extra = {"VersionId": resp["VersionId"]} if resp.get("VersionId") not in (None, "null") else {}
        try:
            _call(drv, uri, bucket, "delete_object", Key=key, **extra)
        except TetherError:
            pass  # the error below still says the bytes there are wrong
        raise ChecksumMismatchError(f"{redact(uri)}: the store holds other bytes than were sent "
                                    "(its ETag is not their MD5); the upload was removed")
    return resp


def _put_multipart(drv: S3Driver, uri: str, bucket: str, key: str, src: SourceReader) -> dict[str, Any]:
    md5_etags = drv.etag_is_md5(bucket)
    up = _call(drv, uri, bucket, "create_multipart_upload", Key=key, ChecksumAlgorithm="SHA256")
    upload_id = up["UploadId"]
    parts: list[dict[str, Any]] = []
    try:
        for number, data in enumerate(src.chunks(part_size_for(src.size_at_open)), 1):
            checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
            r = _call(drv, uri, bucket, "upload_part", Key=key, UploadId=upload_id, PartNumber=number,
                      Body=data, ChecksumSHA256=checksum)
            got = _etag(r.get("ETag")) or ""
            if md5_etags and _MD5.fullmatch(got) and got != hashlib.md5(data).hexdigest():
                raise ChecksumMismatchError(f"{redact(uri)}: part {number} reached the store damaged "
                                            "(its ETag is not the MD5 of the part sent); nothing was stored")
            parts.append({"PartNumber": number, "ETag": r["ETag"], "ChecksumSHA256": checksum})
        src.check()  # everything read is the hashed file, or nothing is completed
        if not parts:
            raise source_changed(src.path)
        return _call(drv, uri, bucket, "complete_multipart_upload", Key=key, UploadId=upload_id,
                     MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            drv._call(bucket, "abort_multipart_upload", Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001, S110 - the sweep of a later upload retries it
            pass
        raise


def multipart_digests(local_path: str, part_size: int) -> tuple[str, str, str]:
    """What S3 records for ``local_path`` uploaded in ``part_size`` parts, in
    one read: the multipart ETag (:class:`tether.checksums.MultipartEtag`),
    the composite SHA256 checksum (base64 SHA-256 of the parts' SHA-256s),
    and the file's own sha256."""
    whole = hashlib.sha256()
    etag = MultipartEtag(part_size)
    shas = []
    try:
        with open(local_path, "rb") as f:
            while part := f.read(part_size):
                whole.update(part)
                etag.update(part)
                shas.append(hashlib.sha256(part).digest())
    except (FileNotFoundError, NotADirectoryError):
        raise source_removed(local_path) from None
    composite = base64.b64encode(hashlib.sha256(b"".join(shas)).digest()).decode()
    return etag.hexdigest(), composite, whole.hexdigest()


def holds(drv: S3Driver, obj: RemoteObject, local_path: str, sha256: str) -> bool:
    """A full-object sha256 or MD5 ETag answers directly. A multipart object
    is judged in its own part size (HeadObject with ``PartNumber=1`` gives the
    first part's size): by its composite SHA256 checksum when it has one (what
    tether's multipart uploads carry; unlike the ETag it is a content hash
    under SSE-KMS too), else by recomputing its multipart ETag."""
    if obj.size != local_size(local_path):
        return False
    etag = obj.checksums.get("etag", "")
    if "sha256" in obj.checksums or not _MULTIPART_ETAG.fullmatch(etag):
        return local_matches(obj.checksums, local_path, sha256)
    bucket, key = drv.split(obj.path)
    pin = {"VersionId": obj.version_id} if obj.version_id else {}
    try:
        first = _call(drv, obj.uri, bucket, "head_object", Key=key, PartNumber=1, **pin)
        whole = _call(drv, obj.uri, bucket, "head_object", Key=key, ChecksumMode="ENABLED", **pin)
    except ObjectNotFoundError:
        return False
    part_size = int(first.get("ContentLength") or 0)
    if part_size <= 0 or _etag(whole.get("ETag")) != etag:
        return False  # not the object that was judged a moment ago
    local_etag, local_composite, local_sha = multipart_digests(local_path, part_size)
    if local_sha != sha256:
        raise source_changed(local_path)
    stored = whole.get("ChecksumSHA256")
    if stored and whole.get("ChecksumType", "COMPOSITE") == "COMPOSITE":
        return stored.split("-", 1)[0] == local_composite
    return local_etag == etag


def remove_stale_uploads(drv: S3Driver, folder_uri: str) -> int:
    """Abort multipart uploads into the folder that S3 says were initiated
    more than a day ago: what ``kill -9`` during an upload leaves (a bucket
    lifecycle rule ``AbortIncompleteMultipartUpload`` does the same)."""
    bucket, key = drv.split(drv.path_of(folder_uri))
    prefix = folder_prefix(key)
    now = time.time()
    removed = 0
    kw: dict[str, Any] = {"Prefix": prefix}
    while True:
        page = _call(drv, folder_uri, bucket, "list_multipart_uploads", **kw)
        for u in page.get("Uploads", []):
            started = u.get("Initiated")
            if "/" in u["Key"][len(prefix):] or started is None or now - started.timestamp() <= STALE_AFTER:
                continue
            try:
                _call(drv, folder_uri, bucket, "abort_multipart_upload", Key=u["Key"], UploadId=u["UploadId"])
                removed += 1
            except ObjectNotFoundError:
                pass  # completed or aborted meanwhile
        if not page.get("IsTruncated"):
            return removed
        kw["KeyMarker"], kw["UploadIdMarker"] = page.get("NextKeyMarker"), page.get("NextUploadIdMarker")
