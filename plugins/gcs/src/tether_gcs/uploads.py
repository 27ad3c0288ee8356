"""Verified uploads to GCS: bytes appear at a name only once they are known
to be the bytes whose sha256 names it (the :meth:`tether.Driver.upload` contract).

* Up to :data:`SIMPLE_MAX`: the file is read and hashed in memory, checked,
  then sent in one multipart request whose metadata carries its ``md5Hash``
  and ``crc32c``: GCS computes both over what it received and rejects a
  mismatch, so nothing damaged is stored.
* Larger: a resumable upload session straight to the name, fed the bytes as
  they are read and hashed. GCS creates the object only when the final chunk
  arrives, so the final chunk is sent only after the sha256 of everything
  read matched (else the session is cancelled and nothing appears); it
  carries ``X-Goog-Hash`` (md5, crc32c) of the whole object for GCS to check.

Either way the md5 and crc32c GCS reports for the new object are compared
with those of the bytes read (emulators that ignore the hashes sent are held
to the contract too), and an object that does not match is deleted.

Every write is conditional (``ifGenerationMatch``) on what was at the name a
moment before: 0 for "nothing", or the generation of the object being
replaced. Two loggers uploading the same new content do not replace each
other's object (a replaced generation would leave the first logger's version
pinned to a generation that no longer exists); the loser re-checks what won.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs
from tether.driverkit import SourceReader, redact, source_changed
from tether.errors import AlreadyExistsError, ChecksumMismatchError, StorageError, TetherError
from tether.models import RemoteObject

if TYPE_CHECKING:
    from . import GCSDriver

MiB = 1 << 20
SIMPLE_MAX = 8 * MiB
CHUNK = 8 * MiB  # resumable chunks must be multiples of 256 KiB
_ATTEMPTS = 3
_HASH_REJECTED = re.compile(r"(md5|crc32c).*match|match.*(md5|crc32c)", re.IGNORECASE)


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def upload(drv: GCSDriver, local_path: str, uri: str, sha256: str) -> RemoteObject:
    bucket, name = drv.split(drv.path_of(uri))
    for _ in range(_ATTEMPTS):
        current = drv.head(bucket, name)
        if current is not None and drv.holds(current, local_path, sha256=sha256):
            # A concurrent upload of the same bytes finished since the caller
            # looked: keep it. Replacing it would destroy the generation that
            # upload's version pins (an unversioned bucket keeps no other).
            return attrs.evolve(current, checksums={**current.checksums, "sha256": sha256})
        generation = current.version_id if current is not None and current.version_id else "0"
        try:
            item = _upload_once(drv, uri, bucket, name, local_path, sha256, generation)
        except AlreadyExistsError:
            # Another writer changed the name since we looked: if it now holds
            # these bytes (a concurrent upload of the same content), use it.
            fresh = drv.head(bucket, name)
            if fresh is not None and drv.holds(fresh, local_path, sha256=sha256):
                return attrs.evolve(fresh, checksums={**fresh.checksums, "sha256": sha256})
            continue
        obj = drv._object(bucket, item)
        return attrs.evolve(obj, checksums={**obj.checksums, "sha256": sha256})
    raise StorageError(f"{redact(uri)}: other writers kept replacing the object while it was uploaded")


def _upload_once(drv: GCSDriver, uri: str, bucket: str, name: str, local_path: str, sha256: str,
                 generation: str) -> dict[str, Any]:
    # translating(create=True): a failed ifGenerationMatch becomes AlreadyExistsError
    with SourceReader(local_path, sha256, ("md5", "crc32c")) as src, drv.translating(uri, create=True):
        if src.size_at_open <= SIMPLE_MAX:
            data = src.read(SIMPLE_MAX + 1)
            if len(data) > SIMPLE_MAX:
                raise source_changed(src.path)  # grew past one request since it was opened
            sums = src.check()
            item = _simple(drv, bucket, name, data, sums, generation)
        else:
            item, sums = _resumable(drv, bucket, name, src, generation)
    stored = {"md5": item.get("md5Hash"), "crc32c": item.get("crc32c")}
    if any(v is not None and v != _b64(sums[k]) for k, v in stored.items()):
        try:
            _delete(drv, bucket, name, str(item.get("generation", "")))
        except TetherError:
            pass  # the error below still says the bytes there are wrong
        raise ChecksumMismatchError(f"{redact(uri)}: the store holds other bytes than were sent "
                                    "(its md5/crc32c differ); the upload was removed")
    return item


def _rejected(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 400 and bool(_HASH_REJECTED.search(str(exc)))


def _simple(drv: GCSDriver, bucket: str, name: str, data: bytes, sums: dict[str, str],
            generation: str) -> dict[str, Any]:
    meta = json.dumps({"name": name, "md5Hash": _b64(sums["md5"]), "crc32c": _b64(sums["crc32c"])})
    body = (b"--==0==\nContent-Type: application/json; charset=UTF-8\n\n" + meta.encode()
            + b"\n--==0==\nContent-Type: application/octet-stream\n\n" + data + b"\n--==0==--")

    async def go(fs: Any) -> Any:
        return await fs._call("POST", f"{fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
                              uploadType="multipart", ifGenerationMatch=generation, json_out=True,
                              headers={"Content-Type": 'multipart/related; boundary="==0=="'}, data=body)

    try:
        return drv._run(bucket, go)
    except Exception as exc:
        if _rejected(exc):
            raise ChecksumMismatchError(f"gs://{bucket}/{name}: GCS received other bytes than were sent; "
                                        "nothing was stored") from None
        raise


def _resumable(drv: GCSDriver, bucket: str, name: str, src: SourceReader,
               generation: str) -> tuple[dict[str, Any], dict[str, str]]:
    async def start(fs: Any) -> str:
        headers, _ = await fs._call("POST", f"{fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
                                    uploadType="resumable", name=name, ifGenerationMatch=generation,
                                    json={"name": name}, headers={"X-Upload-Content-Type": "application/octet-stream"})
        loc = headers["Location"]
        return loc[0] if isinstance(loc, list) else loc

    session = drv._run(bucket, start)
    offset = 0
    try:
        while True:
            chunk = src.read(CHUNK)
            # The last chunk is the one reaching the size the file had when
            # opened (or the end of the file, if it shrank); bytes written
            # after that are not part of what was hashed.
            if len(chunk) == CHUNK and offset + len(chunk) < src.size_at_open:
                _send(drv, bucket, session, chunk, offset, None, {})
                offset += len(chunk)
                continue
            sums = src.check()  # the session is finalised only with the hashed bytes
            hashes = {"X-Goog-Hash": f"crc32c={_b64(sums['crc32c'])},md5={_b64(sums['md5'])}"}
            try:
                body = _send(drv, bucket, session, chunk, offset, offset + len(chunk), hashes)
            except Exception as exc:
                if _rejected(exc):
                    raise ChecksumMismatchError(f"gs://{bucket}/{name}: GCS received other bytes than were "
                                                "sent; nothing was stored") from None
                raise
            return json.loads(body), sums
    except BaseException:
        _cancel(drv, bucket, session)
        raise


def _send(drv: GCSDriver, bucket: str, session: str, data: bytes, offset: int, total: int | None,
          extra: dict[str, str]) -> bytes:
    """One chunk of a resumable session (``total`` only on the last); resends
    whatever part of it GCS says it did not persist."""
    async def go(fs: Any) -> bytes:
        pos, view = offset, data
        while True:
            end = f"{pos}-{pos + len(view) - 1}" if view else "*"
            headers = {"Content-Range": f"bytes {end}/{'*' if total is None else total}",
                       "Content-Type": "application/octet-stream", **extra}
            got, body = await fs._call("PUT", session, headers=headers, data=bytes(view))
            if total is not None:
                return body  # the object resource: GCS took everything
            persisted = got.get("Range")
            last = int(persisted.rsplit("-", 1)[1]) if persisted else offset - 1
            if last >= offset + len(data) - 1:
                return body
            pos, view = last + 1, data[last + 1 - offset:]

    return drv._run(bucket, go)


def _cancel(drv: GCSDriver, bucket: str, session: str) -> None:
    async def go(fs: Any) -> None:
        await fs._call("DELETE", session)  # GCS answers 499: cancelled

    try:
        drv._run(bucket, go)
    except Exception:  # noqa: BLE001, S110 - an unfinished session expires and holds no object
        pass


def _delete(drv: GCSDriver, bucket: str, name: str, generation: str) -> None:
    async def go(fs: Any) -> None:
        params = {"ifGenerationMatch": generation} if generation else {}
        await fs._call("DELETE", "b/{}/o/{}", bucket, name, **params)

    with drv.translating(drv.uri_of(f"{bucket}/{name}")):
        drv._run(bucket, go)
