"""A cache of local file checksums keyed on (path, size, mtime, inode).

Logging a 20,000-file folder twice should hash it once. An entry is trusted
only while the file's size, mtime (ns) and inode are unchanged; entries for
files modified within the last two seconds are not stored, because a second
write inside the filesystem's timestamp granularity would go unnoticed (the
"racily clean" problem git solves the same way).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

RACY_WINDOW_NS = 2_000_000_000

_SCHEMA = """
create table if not exists hashes (
    path text primary key, size integer, mtime_ns integer, inode integer,
    kind text, digest text
)
"""


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
                db.execute(_SCHEMA)
                self._db = db
            except sqlite3.Error:
                return None  # a cache that cannot open is just a slower log
        return self._db

    def lookup(self, stats: dict[str, os.stat_result], kind: str = "sha256") -> dict[str, str]:
        """Cached digests for the files whose stat still matches."""
        with self._lock:
            db = self._conn()
            if db is None or not stats:
                return {}
            out: dict[str, str] = {}
            paths = sorted(stats)
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
                except sqlite3.Error:
                    return out
                for path, size, mtime_ns, inode, digest in rows:
                    st = stats.get(path)
                    if st is not None and st.st_size == size and st.st_mtime_ns == mtime_ns and st.st_ino == inode:
                        out[path] = digest
            return out

    def store(self, entries: dict[str, tuple[os.stat_result, str]], kind: str = "sha256") -> None:
        now = time.time_ns()
        rows = [(p, st.st_size, st.st_mtime_ns, st.st_ino, kind, d)
                for p, (st, d) in entries.items() if now - st.st_mtime_ns > RACY_WINDOW_NS]
        if not rows:
            return
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.execute("begin")
                db.executemany("insert or replace into hashes values (?,?,?,?,?,?)", rows)
                db.execute("commit")
            except sqlite3.Error:
                try:
                    db.execute("rollback")
                except sqlite3.Error:
                    pass


_caches: dict[Path, StateCache] = {}
_caches_lock = threading.Lock()


def get_cache() -> StateCache:
    from .config import cache_dir

    folder = cache_dir()
    with _caches_lock:
        cache = _caches.get(folder)
        if cache is None:
            cache = _caches[folder] = StateCache(folder)
        return cache
