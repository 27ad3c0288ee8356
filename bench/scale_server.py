"""A moto S3 server holding large buckets, filled through moto's own backend.

    python bench/scale_server.py SPEC_JSON      # prints "ready <port>" once filled and serving

SPEC_JSON lists buckets: ``[{"bucket": "b", "versioned": true, "prefixes": 200, "per_prefix": 1000,
"flat": 0}, ...]``: ``prefixes`` folders ``data/p0000/`` ... of ``per_prefix`` keys each, or with
``flat`` that many keys directly under ``data/``. Putting 200,000 objects through HTTP costs moto
minutes; its backend takes them in seconds, and the server then answers exactly as moto does.

Changes to moto's speed, none to its answers (the buckets never change once filled):

* moto answers each listing page by walking, copying and sorting *every* key of the bucket
  (ListObjectVersions deep-copies every version), about 1-2.5 s a page at 200,000 keys, so
  one pass of a 200-page paginator took ten minutes. Here moto's own listing code runs on a
  view of the bucket holding only the keys that can appear in the answer: those under the
  prefix, from the marker or continuation token on, and (without a delimiter, where every
  entry is a key or a version) no more than the page can hold plus one to tell truncation.
  The keys outside that range are the ones moto itself skips.
* the versions are copied shallowly instead of deeply (moto copies them to set ``IsLatest``,
  which it then sets identically on each call).
"""

from __future__ import annotations

import bisect
import copy
import json
import socket
import sys
import threading
import time
import types
from typing import Any

_local = threading.local()
_names: dict[str, list[str]] = {}  # bucket -> its keys, sorted (filled once, never changed)


class _View:
    """A bucket whose ``keys`` hold only the keys in one range; everything else is the bucket's."""

    def __init__(self, bucket: Any, keys: Any) -> None:
        self._bucket = bucket
        self.keys = keys

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


def _narrowed(store_cls: type, bucket: Any, prefix: str, lower: str | None, inclusive: bool,
              limit: int | None) -> _View:
    names = _names.setdefault(bucket.name, sorted(dict.keys(bucket.keys)))
    lo = bisect.bisect_left(names, prefix)
    if lower is not None and lower > prefix:
        lo = (bisect.bisect_left if inclusive else bisect.bisect_right)(names, lower)
    hi = bisect.bisect_left(names, prefix + "\U0010ffff") if prefix else len(names)
    if limit is not None:
        hi = min(hi, lo + limit)
    store = store_cls()
    for name in names[lo:hi]:
        dict.__setitem__(store, name, dict.__getitem__(bucket.keys, name))
    return _View(bucket, store)


def patch_moto_listings(models: Any) -> None:
    from moto.s3.utils import _VersionedKeyStore

    backend_cls = models.S3Backend
    v2, versions, get_bucket = backend_cls.list_objects_v2, backend_cls.list_object_versions, backend_cls.get_bucket

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):
        lower = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        view = _narrowed(_VersionedKeyStore, bucket, prefix or "", lower, False,
                         None if delimiter else max_keys + 1)
        return v2(self, view, prefix, delimiter, continuation_token, start_after, max_keys)

    def list_object_versions(self, bucket_name, delimiter=None, key_marker=None, max_keys=1000, prefix="",
                             version_id_marker=None):
        bucket = get_bucket(self, bucket_name)
        _local.view = _narrowed(_VersionedKeyStore, bucket, prefix or "", key_marker, True,
                                None if delimiter else (max_keys or 1000) + 2)
        try:
            return versions(self, bucket_name, delimiter, key_marker, max_keys, prefix, version_id_marker)
        finally:
            _local.view = None

    def get_bucket_viewed(self, bucket_name):
        view = getattr(_local, "view", None)
        return view if view is not None and view.name == bucket_name else get_bucket(self, bucket_name)

    backend_cls.list_objects_v2 = list_objects_v2
    backend_cls.list_object_versions = list_object_versions
    backend_cls.get_bucket = get_bucket_viewed


def main() -> None:
    spec = json.loads(sys.argv[1])
    spec_plain = "--plain" in sys.argv  # moto as it is (to check that the answers are the same)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.s3 import models

    models.copy = types.SimpleNamespace(**{**vars(copy), "deepcopy": copy.copy})  # see the docstring
    if not spec_plain:
        patch_moto_listings(models)
    backend = models.s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    t0 = time.perf_counter()
    for b in spec:
        backend.create_bucket(b["bucket"], "us-east-1")
        if b.get("versioned"):
            backend.put_bucket_versioning(b["bucket"], "Enabled")
        if b.get("flat"):
            keys = [f"data/{i:07d}.bin" for i in range(b["flat"])]
        else:
            keys = [f"data/p{p:04d}/{i:05d}.bin" for p in range(b["prefixes"]) for i in range(b["per_prefix"])]
        for k in keys:
            backend.put_object(b["bucket"], k, b"x" * 64)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the bench's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"ready {port} {time.perf_counter() - t0:.1f}", flush=True)
    try:
        sys.stdin.read()  # until the bench closes our stdin
    finally:
        server.stop()


if __name__ == "__main__":
    main()
