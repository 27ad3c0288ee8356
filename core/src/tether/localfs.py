"""Writing into a download folder without following links, one writer per file.

Everything below the download root is reached through directory descriptors
(``openat``-style calls with ``dir_fd=``), one path segment at a time, never
following a symbolic link: once a folder is open, swapping it (or any folder
above it) for a link cannot redirect a write, because the descriptor still
names the folder that was checked. This is how rsync, tar and git keep a
hostile tree from steering their writes.

Part files (the hidden ``.tether-part-*`` file a download streams into) are
created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, and an existing one (left by
``kill -9``) is reopened with ``O_NOFOLLOW`` and used only if it is a regular
file owned by this user with a single link: a link, FIFO, folder, another
user's file or a hard link to a file elsewhere is refused with an
:class:`~tether.errors.UnsafePathError` naming it.

Concurrent downloads into one folder (every rank of a training job filling a
node cache) take an exclusive ``flock`` on the part file before writing it.
Whoever holds the lock is the only writer; a waiter that wins the lock after
the holder renamed or removed the file sees that the name no longer refers to
the file it locked, and starts over (the file under its final name is then
usually complete). ``flock`` is released by the kernel when a process dies, so
``kill -9`` never leaves a stale lock, and the next run resumes the part file.
POSIX only (Linux, macOS, the BSDs); on NFS, Linux maps ``flock`` onto
byte-range locks, which the server arbitrates.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import secrets
import stat
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Self

from .errors import ChecksumMismatchError, DestinationConflictError, UnsafePathError
from .paths import short_prefix

PART_MARK = ".tether-part-"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted at the name must not hang; cleared once
# the descriptor is known to be a regular file.
_REOPEN_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_CREATE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_RETRIES = 100  # a name created and removed by others this often in a row is a hostile loop
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}
_warned: set[Path] = set()


def _warn_no_locks(folder: Path, exc: OSError) -> None:
    if folder not in _warned:
        _warned.add(folder)
        warnings.warn(f"the disk at {folder} does not support file locks ({exc.strerror}); "
                      "concurrent downloads into it are not safe", RuntimeWarning, stacklevel=2)


def part_name(final_name: str, key: str) -> str:
    """The hidden part file for ``final_name``: a prefix of the name bounded in
    bytes (so the result fits in 255 bytes in any script) and 96 bits of
    ``key``'s sha256 (so two logical paths never share a part file)."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f".{short_prefix(final_name)}{PART_MARK}{digest}"


def _kind(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    return "not a regular file"


class Folder:
    """A folder below a download root, opened segment by segment without
    following links, creating missing ones (iteratively: depth costs no stack)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, root: Path, segments: Sequence[str]) -> Folder:
        try:
            fd = os.open(root, _DIR_FLAGS)
        except OSError as exc:
            raise DestinationConflictError(
                f"destination folder {root} was removed or replaced during the download ({exc.strerror})") from None
        path = root
        try:
            for seg in segments:
                path = path / seg
                nxt = cls._enter(fd, seg, path)
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    @staticmethod
    def _enter(fd: int, seg: str, path: Path) -> int:
        for _ in range(_RETRIES):
            try:
                return os.open(seg, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                try:
                    os.mkdir(seg, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass  # made by a concurrent download (or a link: the next open tells)
            except OSError:
                try:
                    st = os.stat(seg, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    raise UnsafePathError(f"{path} is a symbolic link; tether does not write through links "
                                          "below the destination") from None
                if not stat.S_ISDIR(st.st_mode):
                    raise DestinationConflictError(f"{path} is a file where the artifact needs a folder") from None
                raise
        raise DestinationConflictError(f"{path} keeps appearing and disappearing; another process is changing it")

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PartFile:
    """A part file in ``folder``, open and exclusively locked by this process.

    Leaving the ``with`` block without :meth:`commit` removes it (if the name
    still refers to it) and releases the lock."""

    def __init__(self, folder: Folder, name: str, fd: int) -> None:
        self.folder = folder
        self.name = name
        self.fd = fd
        self.committed = False

    @property
    def where(self) -> Path:
        return self.folder.path / self.name

    @classmethod
    def acquire(cls, folder: Folder, name: str, *, wait: Callable[[], None]) -> PartFile:
        """Open (or create) and lock the part file ``name``. ``wait`` is called
        between polls while another process holds the lock; it raises to give up."""
        for _ in range(_RETRIES):
            fd = cls._open(folder, name)
            try:
                cls._lock(fd, wait, folder.path / name)
                if cls._is_named(folder, name, fd):
                    return cls(folder, name, fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the holder renamed or removed it meanwhile: start over
        raise DestinationConflictError(f"{folder.path / name} keeps being replaced; another process is changing it")

    @staticmethod
    def _open(folder: Folder, name: str) -> int:
        where = folder.path / name
        for _ in range(_RETRIES):
            try:
                return os.open(name, _CREATE_FLAGS, 0o666, dir_fd=folder.fd)
            except FileExistsError:
                pass
            try:
                fd = os.open(name, _REOPEN_FLAGS, dir_fd=folder.fd)
            except FileNotFoundError:
                continue  # removed since: create it
            except OSError as exc:
                st = folder.lstat(name)
                if st is None:
                    continue
                raise UnsafePathError(f"part file {where} is {_kind(st)}; tether will not write through it "
                                      "(remove it to download again)") from exc
            st = os.fstat(fd)
            problem = None
            if not stat.S_ISREG(st.st_mode):
                problem = _kind(st)
            elif st.st_uid != os.geteuid():
                problem = f"owned by user id {st.st_uid}, not this user ({os.geteuid()})"
            elif st.st_nlink != 1:
                problem = f"a file with {st.st_nlink} hard links (writing it would change the others)"
            if problem:
                os.close(fd)
                raise UnsafePathError(f"part file {where} is {problem}; tether will not write through it "
                                      "(remove it to download again)")
            os.set_blocking(fd, True)
            return fd
        raise DestinationConflictError(f"{where} keeps appearing and disappearing; another process is changing it")

    @staticmethod
    def _lock(fd: int, wait: Callable[[], None], where: Path) -> None:
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            except OSError as exc:
                if exc.errno not in _NO_LOCKS:
                    raise
                # A disk without locks (NFS without lockd): one download at a
                # time still works, as before locks were taken; say so once.
                _warn_no_locks(where.parent, exc)
                return
            # Polled rather than blocking so Ctrl-C (``wait`` raising) is not
            # stuck behind another process's download.
            wait()
            time.sleep(delay)
            delay = min(0.2, delay * 2)

    @staticmethod
    def _is_named(folder: Folder, name: str, fd: int) -> bool:
        st = folder.lstat(name)
        mine = os.fstat(fd)
        return st is not None and (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def open(self, keep: int) -> BinaryIO:
        """A file object on the part file, cut to its first ``keep`` bytes and at
        offset 0. Closing it keeps the descriptor (and the lock) held here."""
        os.ftruncate(self.fd, keep)
        f = os.fdopen(os.dup(self.fd), "r+b")
        f.seek(0)
        return f

    def commit(self, final_name: str, size: int) -> None:
        """Rename the part file to ``final_name`` in the same folder, atomically.

        Checked first: the name still refers to the file this process wrote
        and locked, and it holds ``size`` bytes (what was hashed while
        streaming went through this descriptor, under the lock)."""
        if not self._is_named(self.folder, self.name, self.fd):
            raise ChecksumMismatchError(f"part file {self.where} was replaced while downloading")
        got = self.size()
        if got != size:
            raise ChecksumMismatchError(f"part file {self.where} holds {got} bytes, recorded {size}")
        try:
            os.replace(self.name, final_name, src_dir_fd=self.folder.fd, dst_dir_fd=self.folder.fd)
        except OSError as exc:
            if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise DestinationConflictError(f"{self.folder.path / final_name} is a folder; "
                                           "it cannot be replaced by a file") from None
        self.committed = True

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            if not self.committed and self._is_named(self.folder, self.name, self.fd):
                os.unlink(self.name, dir_fd=self.folder.fd)
        except OSError:
            pass  # best effort: the next run resumes or replaces it
        finally:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def names_conflated(folder: Path, name: str, other: str) -> bool:
    """Whether the disk holding ``folder`` treats ``name`` and ``other`` as one
    name (a case- or normalisation-insensitive disk). Probed with a hidden
    file created without following links under a random name."""
    folder.mkdir(parents=True, exist_ok=True)
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        stem = f".tether-probe-{secrets.token_hex(8)}-"
        try:
            fd = os.open(stem + name, _CREATE_FLAGS, 0o600, dir_fd=dfd)
        except OSError as exc:
            if exc.errno in (errno.EILSEQ, errno.EINVAL):
                return False  # the disk cannot store such a name at all
            raise
        try:
            mine = os.fstat(fd)
            try:
                st = os.stat(stem + other, dir_fd=dfd, follow_symlinks=False)
            except OSError:
                return False
            return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)
        finally:
            os.close(fd)
            os.unlink(stem + name, dir_fd=dfd)
    finally:
        os.close(dfd)
