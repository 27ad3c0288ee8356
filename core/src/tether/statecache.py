"""A cache of local file checksums keyed on (path, size, mtime, inode).

Logging a 20,000-file folder twice should hash it once. An entry is trusted
only while the file's size, mtime (ns) and inode are unchanged; entries for
files modified within the last two seconds are not stored, because a second
write inside the filesystem's timestamp granularity would go unnoticed (the
"racily clean" problem git solves the same way).

Two tables. ``hashes`` has one row per file and serves any lookup. ``folders``
has one *snapshot* per listed folder: every cached entry under it in a single
marshal blob, so re-logging an unchanged folder costs one row read and one
comparison per file instead of fetching and unpacking 20,000 rows (the
snapshot is what keeps an unchanged re-log a small fraction of the first).

The cache never fails a log: a database that cannot open, is damaged, locked
or full, a path SQLite cannot store (a file name that is not valid UTF-8
decodes to lone surrogates) or an inode past SQLite's signed 64-bit integers
all mean "not cached", so the file is hashed, never an error.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import threading
import time
from pathlib import Path

RACY_WINDOW_NS = 2_000_000_000
_SNAPSHOT_FORMAT = 1

_SCHEMA = (
    """create table if not exists hashes (
        path text primary key, size integer, mtime_ns integer, inode integer,
        kind text, digest text
    )""",
    """create table if not exists folders (
        root text, kind text, snapshot blob, written_ns integer, primary key (root, kind)
    )""",
)
# Snapshots kept (most recently written first): enough for the folders one
# machine logs, while a stream of one-off folders (a new output folder per run)
# cannot grow the cache without bound. A dropped snapshot costs one slower log,
# not a re-hash: the per-file rows still vouch for the files.
MAX_SNAPSHOTS = 256

# path -> (size, mtime_ns, inode, digest), relative to the snapshot's root
Snapshot = dict[str, tuple[int, int, int, str]]

# What a cache operation may meet besides a damaged database: a path SQLite
# cannot encode (UnicodeEncodeError is a ValueError), an int it cannot hold.
_CACHE_ERRORS = (sqlite3.Error, ValueError, OverflowError)


def _storable(path: str) -> bool:
    """True when SQLite can store ``path`` (UTF-8, so no lone surrogates)."""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _int64(n: int) -> int:
    """``n`` as SQLite's signed 64-bit integer: inodes of some filesystems use all 64 bits."""
    return n - (1 << 64) if n >= 1 << 63 else n


class StateCache:
    def __init__(self, folder: Path) -> None:
        self._path = folder / "hashes.sqlite"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self._path, timeout=30, check_same_thread=False,
                                     isolation_level=None)
                db.execute("pragma journal_mode=wal")
                for statement in _SCHEMA:
                    db.execute(statement)
                self._db = db
            except (OSError, *_CACHE_ERRORS):
                return None  # a cache that cannot open (read-only disk, a file in the way) is just a slower log
        return self._db

    # ------------------------------------------------------------------ lookup
    def lookup(self, stats: dict[str, os.stat_result], kind: str = "sha256") -> dict[str, str]:
        """Cached digests for the files whose stat still matches."""
        if not stats:
            return {}
        with self._lock:
            db = self._conn()
            return self._from_rows(db, stats, kind) if db is not None else {}

    def lookup_folder(self, root: str, stats: dict[str, os.stat_result],
                      kind: str = "sha256") -> tuple[dict[str, str], bool]:
        """Cached digests for the files listed under ``root``, and whether
        ``root``'s snapshot already holds exactly these files as they are (so
        there is nothing to store afterwards). The snapshot answers first; only
        files it does not vouch for are looked up row by row."""
        if not stats:
            return {}, False
        with self._lock:
            db = self._conn()
            if db is None:
                return {}, False
            snapshot = self._read_snapshot(db, root, kind)
            out = _matching(snapshot, root, stats) if snapshot else {}
            current = snapshot is not None and len(out) == len(stats) == len(snapshot)
            if len(out) < len(stats):
                rest = {p: st for p, st in stats.items() if p not in out} if out else stats
                out.update(self._from_rows(db, rest, kind))
            return out, current

    @staticmethod
    def _read_snapshot(db: sqlite3.Connection, root: str, kind: str) -> Snapshot | None:
        if not _storable(root):
            return None
        try:
            row = db.execute("select snapshot from folders where root=? and kind=?", (root, kind)).fetchone()
            if row is None:
                return None
            fmt, snapshot = marshal.loads(row[0])
        except (*_CACHE_ERRORS, EOFError, TypeError):
            return None  # unreadable: as if absent, and rewritten on the next store
        if fmt != _SNAPSHOT_FORMAT or not isinstance(snapshot, dict):
            return None
        return snapshot

    @staticmethod
    def _from_rows(db: sqlite3.Connection, stats: dict[str, os.stat_result], kind: str) -> dict[str, str]:
        out: dict[str, str] = {}
        paths = sorted(p for p in stats if _storable(p))
        if not paths:
            return out
        # Many files under one folder: one range scan of the primary key is
        # far cheaper than batches of IN (...) lookups.
        common = os.path.commonpath(paths) if len(paths) > 500 else None
        if common:
            q = ("select path, size, mtime_ns, inode, digest from hashes "
                 "where path >= ? and path < ? and kind=?")
            batches = [(q, [common, common + "\U0010ffff", kind])]
        else:
            batches = []
            for i in range(0, len(paths), 500):
                batch = paths[i:i + 500]
                batches.append((f"select path, size, mtime_ns, inode, digest from hashes where kind=? "
                                f"and path in ({','.join('?' * len(batch))})", [kind, *batch]))
        for q, args in batches:
            try:
                rows = db.execute(q, args).fetchall()
            except _CACHE_ERRORS:
                return out
            for path, size, mtime_ns, inode, digest in rows:
                st = stats.get(path)
                if st is not None and st.st_size == size and st.st_mtime_ns == mtime_ns \
                        and _int64(st.st_ino) == inode:
                    out[path] = digest
        return out

    # ------------------------------------------------------------------- store
    def store(self, entries: dict[str, tuple[os.stat_result, str]], kind: str = "sha256") -> None:
        """Remember digests of individual files (not those still racily clean)."""
        now = time.time_ns()
        rows = [(p, st.st_size, st.st_mtime_ns, _int64(st.st_ino), kind, d)
                for p, (st, d) in entries.items() if now - st.st_mtime_ns > RACY_WINDOW_NS and _storable(p)]
        if rows:
            self._write(lambda db: db.executemany("insert or replace into hashes values (?,?,?,?,?,?)", rows))

    def store_snapshot(self, root: str, stats: dict[str, os.stat_result], digests: dict[str, str],
                       kind: str = "sha256") -> None:
        """Replace ``root``'s snapshot with the listed files and their digests."""
        if not _storable(root):
            return
        now = time.time_ns()
        cut = len(root.rstrip("/")) + 1
        snapshot = {p[cut:]: (st.st_size, st.st_mtime_ns, st.st_ino, digests[p])
                    for p, st in stats.items()
                    if now - st.st_mtime_ns > RACY_WINDOW_NS and p in digests and _storable(p)}
        blob = marshal.dumps((_SNAPSHOT_FORMAT, snapshot))

        def write(db: sqlite3.Connection) -> None:
            db.execute("insert or replace into folders values (?,?,?,?)", (root, kind, blob, now))
            db.execute("delete from folders where rowid not in "
                       "(select rowid from folders order by written_ns desc limit ?)", (MAX_SNAPSHOTS,))

        self._write(write)

    def _write(self, do) -> None:  # noqa: ANN001
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.execute("begin")
                do(db)
                db.execute("commit")
            except _CACHE_ERRORS:
                try:
                    db.execute("rollback")
                except _CACHE_ERRORS:
                    pass


def _matching(snapshot: Snapshot, root: str, stats: dict[str, os.stat_result]) -> dict[str, str]:
    out: dict[str, str] = {}
    cut = len(root.rstrip("/")) + 1
    get = snapshot.get
    try:
        for path, st in stats.items():
            entry = get(path[cut:])
            if entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns \
                    and entry[2] == st.st_ino:
                out[path] = entry[3]
    except (TypeError, IndexError, KeyError):
        return {}  # a damaged snapshot vouches for nothing
    return out


_caches: dict[Path, StateCache] = {}
_caches_lock = threading.Lock()


def get_cache() -> StateCache:
    """The process's cache of local files' checksums in tether's cache folder (one per folder).

    ``lookup(stats)`` / ``lookup_folder(root, stats)`` return the digests still
    valid for files whose ``os.stat_result`` is unchanged; ``store(entries)`` /
    ``store_snapshot(root, stats, digests)`` record fresh ones. It never raises:
    a cache that cannot be used means "not cached"."""
    from .config import cache_dir

    folder = cache_dir()
    with _caches_lock:
        cache = _caches.get(folder)
        if cache is None:
            cache = _caches[folder] = StateCache(folder)
        return cache
