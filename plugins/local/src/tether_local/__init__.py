"""tether-local: the local filesystem driver (``file://`` URIs and plain paths).

A thin adapter over fsspec's ``LocalFileSystem``. What it adds: sha256 of every
file, computed by streaming in parallel threads and cached on (path, size,
mtime, inode) so unchanged files are not hashed twice; atomic writes (temp +
rename, temp + link for create-if-absent) for uploads and the catalog.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from tether import hookimpl
from tether.driverkit import (
    CHUNK,
    TMP_MARK,
    Driver,
    Excludes,
    ObjectRows,
    SourceReader,
    active,
    check_cap,
    content_token,
    expect,
    fsync_dir,
    gc_paused,
    get_cache,
    hash_file,
    is_stale,
    iso_time,
    iso_time_ns,
    parallel_map,
    redact,
    scan,
    shown_name,
    split_scheme,
    staging_name,
    write_atomic,
)
from tether.errors import (
    AlreadyExistsError,
    DriftError,
    InvalidArtifactError,
    InvalidURIError,
    ObjectNotFoundError,
    PreconditionFailedError,
)
from tether.models import Asset, RemoteObject

__all__ = ["LocalDriver"]

_SURROGATE_RE = re.compile("[\ud800-\udfff]")  # what a name that is not valid UTF-8 decodes to


class LocalDriver(Driver):
    schemes = ("file",)
    conditional_overwrite = True  # flock + compare + atomic rename, across processes
    description = "local and mounted filesystems (file:// and plain paths)"
    lists_with_exclude = True
    # Hashing is CPU bound in C (hashlib drops the GIL): one thread per core,
    # plus a little slack for disk waits.
    default_workers = max(2, min(16, (os.cpu_count() or 2) + 2))

    def make_filesystem(self, bucket: str | None, options: dict[str, Any]):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()

    # ------------------------------------------------------------------- URIs
    def path_of(self, uri: str) -> str:
        scheme, rest = split_scheme(uri)
        if scheme is None:
            return os.path.abspath(os.path.expanduser(uri))
        if scheme != "file":
            raise InvalidURIError(f"{redact(uri)!r} is not a file:// URI")
        if rest.startswith("localhost/"):
            rest = rest[len("localhost"):]
        if not rest.startswith("/"):
            raise InvalidURIError(f"file URI {redact(uri)!r} must be absolute (file:///path)")
        if len(rest) > 2 and rest[2] == ":":  # file:///C:/data on Windows
            rest = rest[1:]
        keep_slash = rest.endswith("/")
        path = os.path.abspath(rest)
        return path + "/" if keep_slash and not path.endswith("/") else path

    def uri_of(self, path: str) -> str:
        return "file://" + (path if path.startswith("/") else "/" + path.replace("\\", "/"))

    # ------------------------------------------------------------------ objects
    def object_from_info(self, info: dict[str, Any]) -> RemoteObject:
        path = info["name"]
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(info.get("size") or 0),
                            last_modified=iso_time(info.get("mtime")))

    def _with_checksums(self, stats: dict[str, os.stat_result], root: str | None = None) -> ObjectRows:
        """Objects with sha256 for each stat'ed file: from the state cache, else
        hashed in parallel (and cached for next time). ``root``: the folder
        they were listed from, whose one-blob snapshot makes a re-log cheap."""
        cache = get_cache()
        if root is None:
            known, current = cache.lookup(stats), False
        else:
            known, current = cache.lookup_folder(root, stats)
        todo = [p for p in stats if p not in known] if len(known) < len(stats) else []
        if todo:
            if active():
                expect("hashing", sum(stats[p].st_size for p in todo))

            def one(p: str) -> tuple[str, str]:
                return p, hash_file(p)["sha256"]

            fresh = dict(parallel_map(one, todo, self.default_workers))
            cache.store({p: (stats[p], d) for p, d in fresh.items()})
            known.update(fresh)
        if root is not None and not current:
            cache.store_snapshot(root, stats, known)
        # Sorted by path (the listing contract). Rows, not objects: this loop runs
        # once per file on every log, and an unchanged re-log never reads the
        # objects (see tether.rows); the timestamp is formatted when one is read.
        uri_of = self.uri_of
        inline = type(self).uri_of is LocalDriver.uri_of  # a subclass may name its objects otherwise
        with gc_paused():  # not while hashing above: that can take minutes
            rows = [("file://" + p if inline and p[:1] == "/" else uri_of(p), p, st.st_size, known[p], st.st_mtime_ns)
                    for p, st in sorted(stats.items())]
        return ObjectRows(rows, "sha256", iso_time_ns)

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        if isinstance(objects, ObjectRows) and objects.kind == "sha256":
            return objects  # list() hashed them, and reading them would build each one
        if all("sha256" in o.checksums for o in objects):
            return objects  # list() already hashed them
        stats: dict[str, os.stat_result] = {}
        for o in objects:
            try:
                stats[o.path] = os.stat(o.path)
            except FileNotFoundError:
                raise ObjectNotFoundError(f"{self.uri_of(o.path)} vanished while being logged") from None
        by_path = {obj.path: obj for obj in self._with_checksums(stats)}
        return [by_path[o.path] for o in objects]  # one per input, in its order (the contract)

    def list(self, uri: str, *, max_objects: int = 10_000, exclude: Excludes | None = None) -> ObjectRows:
        """Every file under the folder, with its sha256: one walk, one stat per
        file. Symlinks to files and folders are followed, ``exclude`` is left
        out while walking (see :mod:`tether.localtree`, shared with uploads).
        The objects come as :class:`~tether.rows.ObjectRows`, built when read."""
        prefix = self.path_of(uri)
        root = prefix.rstrip("/") or "/"
        if not os.path.isdir(root):
            return ObjectRows([], "sha256", iso_time_ns)
        if not root.isascii() and _SURROGATE_RE.search(root):  # before hashing what cannot be recorded
            raise InvalidArtifactError(f"folder '{shown_name(root)}' has a name that is not valid UTF-8; "
                                       "manifests are UTF-8: rename it, e.g. with convmv")
        with gc_paused():  # a stat result per file, none cyclic
            stats = scan(root, exclude)
        check_cap(len(stats), max_objects, uri)  # before hashing anything
        return self._with_checksums(stats, root)

    # ---------------------------------------------------------------- transfer
    def read_range(self, asset: Asset, start: int, end: int) -> bytes:
        assert asset.uri is not None
        path = self.path_of(asset.uri)
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if asset.size is not None and size != asset.size:
                    raise DriftError(f"asset {asset.logical_path!r}: {asset.uri} changed since it was "
                                     f"logged (size {size}, recorded {asset.size})")
                f.seek(start)
                return f.read(end - start)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(f"asset {asset.logical_path!r}: {asset.uri} no longer exists") from None

    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """Copy to a staging file beside ``uri`` while hashing what is read,
        fsync, check, then rename into place (see :meth:`Driver.upload`)."""
        final = Path(self.path_of(uri))
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(staging_name(final.name))
        try:
            with SourceReader(local_path, sha256) as src, open(tmp, "xb") as dst:
                dst.writelines(src.chunks(4 * CHUNK))
                dst.flush()
                os.fsync(dst.fileno())
            src.check()  # before the rename: a changed file never reaches the address
            os.replace(tmp, final)
            fsync_dir(final.parent)
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        st = final.stat()
        return RemoteObject(uri=self.uri_of(str(final)), path=str(final), size=st.st_size,
                            checksums={"sha256": sha256}, last_modified=iso_time_ns(st.st_mtime_ns))

    def holds(self, obj: RemoteObject, local_path: str, *, sha256: str) -> bool:
        """The stored file's own sha256 (hashed, or from the state cache while
        its size, mtime and inode are unchanged) is the local file's."""
        try:
            return self.enrich([obj])[0].checksums.get("sha256") == sha256
        except ObjectNotFoundError:
            return False  # removed since it was seen

    def remove_stale_uploads(self, folder_uri: str) -> int:
        """Staged copies whose mtime is a day old: a copy still being written
        keeps its mtime fresh, however long the upload runs."""
        folder = self.path_of(folder_uri)
        now = time.time()
        removed = 0
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and is_stale(entry.name, entry.stat().st_mtime, now):
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # removed by another sweep
        return removed

    def stat_version(self, asset: Asset) -> RemoteObject | None:
        """The file now, with its sha256 (from the state cache while size, mtime
        and inode are unchanged, else hashed: a local read, not a download)."""
        assert asset.uri is not None
        obj = self.stat_path(self.path_of(asset.uri))
        if obj is None:
            return None
        try:
            return self.enrich([obj])[0]
        except ObjectNotFoundError:
            return None  # removed since it was stated

    # ------------------------------------------------------- catalog primitives
    def read_bytes(self, uri: str) -> bytes:
        try:
            return Path(self.path_of(uri)).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(f"no file at {uri}") from None

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        try:
            write_atomic(Path(self.path_of(uri)), data, if_absent=if_absent)
        except FileExistsError:
            raise AlreadyExistsError(f"{uri} already exists") from None

    def read_bytes_versioned(self, uri: str) -> tuple[bytes, str]:
        data = self.read_bytes(uri)
        return data, content_token(data)

    def write_bytes_if_match(self, uri: str, data: bytes, token: str) -> str:
        """Lock, compare, atomic rename. The lock is an advisory ``flock`` on a
        hidden file beside the object (never deleted, so every writer locks the
        same inode); the token is the content's sha256 (an inode or mtime can
        repeat after a rename, the bytes cannot lie)."""
        final = Path(self.path_of(uri))
        with _locked(final):
            try:
                current = final.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                raise ObjectNotFoundError(f"no file at {uri}") from None
            if content_token(current) != token:
                raise PreconditionFailedError(f"{uri} changed since it was read")
            write_atomic(final, data)
        return content_token(data)

    def stat_path(self, path: str) -> RemoteObject | None:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not os.path.isfile(path):
            return None
        return RemoteObject(uri=self.uri_of(path), path=path, size=st.st_size,
                            last_modified=iso_time_ns(st.st_mtime_ns))

    def list_names(self, uri: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.path_of(uri)) if ".tether-tmp-" not in n)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def delete(self, uri: str) -> None:
        try:
            os.unlink(self.path_of(uri))
        except FileNotFoundError:
            pass


@contextmanager
def _locked(final: Path) -> Iterator[None]:
    """An exclusive lock between processes for writes to ``final``."""
    lock_path = final.with_name(f".{final.name[:80]}{TMP_MARK}lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except (FileNotFoundError, NotADirectoryError):
        raise ObjectNotFoundError(f"no file at {final}") from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:  # Windows: lock the first byte, waiting for it
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        yield
    finally:
        os.close(fd)  # releases the lock


@hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [LocalDriver]
