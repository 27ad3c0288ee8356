"""``tether.objectstore.ObjectStoreDriver``: a store that supplies only the seven
store calls gets the object-store behaviour a plain fsspec driver lacks: no byte
read at log time, ``last_modified`` kept, a changed object a ``DriftError``
before any retry, a conditional overwrite that is the store's own."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import itertools
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
import tether
from tether import errors, plugins
from tether.objectstore import ListPage, ObjectStoreDriver

#: bucket -> key -> (bytes, etag, last modified). One per process, like a server.
STORE: dict[str, dict[str, tuple[bytes, str, str]]] = {}
CALLS: Counter[str] = Counter()
_LOCK = threading.Lock()
_ETAGS = itertools.count(1)
_STAMP = "2026-03-01T12:00:00Z"


class DictStore(ObjectStoreDriver):
    """The whole of a store: ETags that are no content hash (a counter) and
    an MD5 in the listing, the way S3 single-part objects and Azure blobs with
    Content-MD5 look. Pages of two, so every listing is paginated."""

    schemes = ("dictstore",)

    def _bucket(self, bucket: str) -> dict[str, tuple[bytes, str, str]]:
        if bucket not in STORE:
            raise errors.ObjectNotFoundError(f"dictstore://{bucket}/: no such bucket")
        return STORE[bucket]

    def _obj(self, bucket: str, key: str, data: bytes, etag: str, modified: str) -> tether.RemoteObject:
        return tether.RemoteObject(uri=f"dictstore://{bucket}/{key}", path=f"{bucket}/{key}", size=len(data),
                                   checksums={"md5": hashlib.md5(data).hexdigest(), "etag": etag},
                                   last_modified=modified)

    def list_page(self, bucket, prefix, *, delimiter, token):
        CALLS["list_page"] += 1
        keys = sorted(k for k in self._bucket(bucket) if k.startswith(prefix))
        objects, prefixes = [], set()
        for k in keys:
            rest = k[len(prefix):]
            if delimiter and delimiter in rest:
                prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
            else:
                objects.append(k)
        start = int(token or 0)
        page = objects[start:start + 2]
        nxt = str(start + 2) if start + 2 < len(objects) else None
        return ListPage(tuple(self._obj(bucket, k, *STORE[bucket][k]) for k in page),
                        tuple(sorted(prefixes)) if start == 0 else (), nxt)

    def head(self, bucket, key, *, version_id=None):
        CALLS["head"] += 1
        got = self._bucket(bucket).get(key)
        return None if got is None else self._obj(bucket, key, *got)

    def get_range(self, bucket, key, start, end, *, version_id=None, etag=None):
        CALLS["get_range"] += 1
        got = self._bucket(bucket).get(key)
        if got is None:
            raise errors.ObjectNotFoundError(f"dictstore://{bucket}/{key}: no such object")
        if etag is not None and got[1] != etag:
            raise errors.DriftError(f"dictstore://{bucket}/{key} changed since it was logged")
        return got[0][start:end]

    def put(self, bucket, key, data, *, if_absent):
        with _LOCK:
            objects = STORE.setdefault(bucket, {})
            if if_absent and key in objects:
                raise errors.AlreadyExistsError(f"dictstore://{bucket}/{key} already exists")
            etag = f"e{next(_ETAGS)}"
            objects[key] = (data, etag, _STAMP)
            return etag

    def get_with_token(self, bucket, key):
        CALLS["get_with_token"] += 1
        got = self._bucket(bucket).get(key)
        if got is None:
            raise errors.ObjectNotFoundError(f"dictstore://{bucket}/{key}: no such object")
        return got[0], got[1]

    def put_if_match(self, bucket, key, data, token):
        with _LOCK:
            got = self._bucket(bucket).get(key)
            if got is None or got[1] != token:
                raise errors.PreconditionFailedError(f"dictstore://{bucket}/{key} changed")
            etag = f"e{next(_ETAGS)}"
            STORE[bucket][key] = (data, etag, _STAMP)
            return etag

    def delete_key(self, bucket, key, *, version_id=None):
        self._bucket(bucket).pop(key, None)


@tether.hookimpl
def tether_register_drivers():
    return [DictStore]


@pytest.fixture(autouse=True)
def dictstore():
    found = md.entry_points(group=plugins.ENTRY_POINT_GROUP)
    old = plugins.set_registry(plugins.Registry([*found, md.EntryPoint(
        "dictstore", __name__, plugins.ENTRY_POINT_GROUP)]))
    STORE.clear()
    STORE["b"] = {}
    CALLS.clear()
    yield tether.get_driver("dictstore")
    plugins.set_registry(old)


def _reads() -> int:
    return CALLS["get_range"] + CALLS["get_with_token"]


def test_logging_a_prefix_reads_no_byte_and_keeps_last_modified(dictstore, tmp_path: Path) -> None:
    for i in range(5):  # three pages of listing
        dictstore.write_bytes(f"dictstore://b/data/f{i}", os.urandom(100))
    dictstore.write_bytes("dictstore://b/data/marker/", b"")  # a folder marker: not an object
    dictstore.write_bytes("dictstore://b/data2/x", b"not under data/")
    art = tether.Artifact("d")
    art.add_remote("dictstore://b/data")
    v = tether.Catalog(str(tmp_path / "cat")).log(art)
    assert _reads() == 0, CALLS
    assert CALLS["list_page"] == 3
    assert sorted(a.logical_path for a in v.assets) == [f"f{i}" for i in range(5)]
    assert {a.last_modified for a in v.assets} == {_STAMP}
    assert all(a.checksums.get("md5") and a.checksums.get("etag") for a in v.assets)
    result = v.download(tmp_path / "out")
    assert result.ok and len(result.with_status("downloaded")) == 5


def test_a_changed_object_is_drift_on_the_first_read_not_after_retries(dictstore, tmp_path: Path) -> None:
    dictstore.write_bytes("dictstore://b/d/a.txt", b"original")
    art = tether.Artifact("drift")
    art.add_remote("dictstore://b/d")
    v = tether.Catalog(str(tmp_path / "cat")).log(art)
    dictstore.write_bytes("dictstore://b/d/a.txt", b"modified")  # same size: only the pin tells
    CALLS.clear()
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "changed since it was logged" in (failed.error or "")
    assert CALLS["get_range"] == 1  # refused by the store on the first request: nothing retried
    assert not (tmp_path / "out" / "a.txt").exists()


def test_a_deleted_object_is_reported_as_deleted(dictstore, tmp_path: Path) -> None:
    dictstore.write_bytes("dictstore://b/d/a.txt", b"original")
    art = tether.Artifact("gone")
    art.add_remote("dictstore://b/d")
    v = tether.Catalog(str(tmp_path / "cat")).log(art)
    dictstore.delete("dictstore://b/d/a.txt")
    (failed,) = v.download(tmp_path / "out", raise_on_error=False).with_status("failed")
    assert "a.txt" in (failed.error or "") and "changed" not in (failed.error or "")


def test_catalog_primitives_come_from_the_store_calls(dictstore) -> None:
    from ..runs_helpers import check_conditional_overwrite

    check_conditional_overwrite(dictstore, "dictstore://b/p")
    with pytest.raises(errors.AlreadyExistsError):
        dictstore.write_bytes("dictstore://b/p/runs/r/run.json", b"again", if_absent=True)
    dictstore.write_bytes("dictstore://b/p/names/x", b"1")
    dictstore.write_bytes("dictstore://b/p/names/sub/y", b"2")
    assert dictstore.list_names("dictstore://b/p/names") == ["sub", "x"]
    assert dictstore.list_names("dictstore://nobucket/p") == []
    with pytest.raises(errors.ObjectNotFoundError, match="no such bucket"):
        dictstore.list("dictstore://nobucket/p/")


def test_a_missing_store_call_says_what_to_implement() -> None:
    class Half(ObjectStoreDriver):
        schemes = ("half",)

    with pytest.raises(NotImplementedError, match=r"must implement get_range\(bucket, key, start, end"):
        Half().get_range("b", "k", 0, 1)


def test_a_tether_error_raised_inside_translating_never_reaches_translate_error() -> None:
    """A naive translate_error that maps every exception to StorageError must not
    turn a store call's own ObjectNotFoundError into a generic failure."""
    from tether.driver import Driver
    from tether.errors import ObjectNotFoundError, StorageError

    class Naive(Driver):
        schemes = ("naive-translate",)

        def translate_error(self, exc, uri, *, asset=None, create=False):
            return StorageError(f"{uri}: failed")

    driver = Naive()
    with pytest.raises(ObjectNotFoundError), driver.translating("naive-translate://b/k"):
        raise ObjectNotFoundError("naive-translate://b/k: no such object")
    with pytest.raises(StorageError), driver.translating("naive-translate://b/k"):
        raise OSError("connection reset")
