"""tether benchmarks: tether against the raw clients and the tools users would pick instead.

    python bench/run.py                    # the issue's sizes (a few minutes on 2 cores)
    python bench/run.py --size smoke       # smaller sizes
    python bench/run.py --size tiny        # proves the suite runs (the test suite uses this)
    python bench/run.py --resolve 100000   # opt-in larger listing
    python bench/run.py --only resolve,local
    python bench/run.py --peer-python .peers/bin/python   # W&B and Comet, installed in their own venv

Every scenario runs tether and its comparisons in this one run, against the same server on
127.0.0.1 (moto for S3, fake-gcs-server for GCS), alternating repetitions, and reports medians
and the ratio tether / comparison (below 1.0: tether is faster), plus request counts where they
matter. Results are written as JSON to bench/results/. No test asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import environ, start_fake_gcs, start_moto  # noqa: E402

MiB = 1024 * 1024
SIZES = {
    "tiny": dict(resolve=300, resolve_gcs=100, small=100, large=8 * MiB, local_files=200,
                 local_bytes=20 * MiB, catalog=2_000, diff=2_000, runs=300, reps=1, scale_folders=20, scale_per_folder=100,
                 scale_flat=1_000),
    "smoke": dict(resolve=2_000, resolve_gcs=500, small=500, large=256 * MiB, local_files=2_500,
                  local_bytes=256 * MiB, catalog=20_000, diff=20_000, runs=2_000, reps=3, scale_folders=100, scale_per_folder=300,
                  scale_flat=5_000),
    "full": dict(resolve=10_000, resolve_gcs=2_000, small=2_000, large=1024 * MiB, local_files=20_000,
                 local_bytes=2048 * MiB, catalog=100_000, diff=100_000, runs=10_000, reps=3, scale_folders=200, scale_per_folder=1_000,
                 scale_flat=20_000),
}
#: What one S3 request costs away from the loopback (real listing pages take about this).
LATENCY = 0.05


# ---------------------------------------------------------------------------- helpers
def fresh_folder(path: Path) -> None:
    """An empty ``path``: each download repetition starts from nothing."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternate(runs: dict[str, Callable[[], float | None]], reps: int,
              setup: Callable[[], None] | None = None) -> dict[str, float]:
    """Median seconds per contender; contenders alternate within each repetition.
    A contender may return its own measured seconds (peers time only their call)."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            if setup:
                setup()
            t = time.perf_counter()
            own = fn()
            times[name].append(own if isinstance(own, float) else time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items() if v}


def show(title: str, med: dict[str, float], notes: dict[str, object] | None = None,
         unit: str = "ms") -> dict:
    base = med.get("tether")
    print(f"\n## {title}")
    for name, t in med.items():
        ratio = "" if name == "tether" or base is None else f"   tether/{name} = {base / t:.2f}x"
        print(f"  {name:42} {t * 1000:10.1f} ms{ratio}")
    for k, v in (notes or {}).items():
        print(f"  {k}: {v}")
    return {"title": title, "median_seconds": med,
            "ratios": {k: base / v for k, v in med.items() if k != "tether" and base},
            **(notes or {})}


class RequestLog:
    """Counts requests at the server, from moto's own request log."""

    def __init__(self, server) -> None:  # noqa: ANN001
        self.server = server
        self.mark = 0

    def start(self) -> None:
        self.mark = len(self.server.log_text().splitlines())

    def lines(self) -> list[str]:
        return self.server.log_text().splitlines()[self.mark:]

    def count(self, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for ln in self.lines() if rx.search(ln))


def put_many(s3, bucket: str, keys: list[str], body: bytes) -> None:  # noqa: ANN001
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys))


def run_peer(peer_python: str | None, peer: str, uri: str, cap: int) -> dict:
    if not peer_python:
        return {"error": "not run: no --peer-python (install wandb and comet_ml in a separate venv)"}
    r = subprocess.run([peer_python, str(ROOT / "bench" / "peers.py"), peer, uri, str(cap)],
                       capture_output=True, text=True, timeout=3600, env=os.environ.copy())
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": f"peer crashed: {r.stderr.strip()[-300:]}"}


# -------------------------------------------------------------------------- scenarios
def scenario_resolve(ctx: dict, versioned: bool) -> dict:
    import tether

    s3, n, moto = ctx["s3"], ctx["size"]["resolve"], ctx["moto"]
    bucket = f"res-{'v' if versioned else 'u'}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_many(s3, bucket, [f"data/{i:06d}.bin" for i in range(n)], b"x" * 64)
    uri = f"s3://{bucket}/data/"
    log = RequestLog(moto)

    def tether_resolve() -> None:
        assert len(tether.Artifact("b").add_remote(uri, max_objects=n)) == n

    def raw_paginator() -> None:
        op = "list_object_versions" if versioned else "list_objects_v2"
        key = "Versions" if versioned else "Contents"
        got = sum(len(p.get(key, [])) for p in s3.get_paginator(op).paginate(Bucket=bucket, Prefix="data/"))
        assert got == n

    runs: dict[str, Callable[[], float | None]] = {
        "tether": tether_resolve,
        f"boto3 {'ListObjectVersions' if versioned else 'ListObjectsV2'} paginator": raw_paginator}
    notes: dict[str, object] = {}
    requests: dict[str, int] = {}
    for name, fn in list(runs.items()):
        log.start()
        fn()
        requests[name] = len(log.lines())
    for peer, label in (("wandb", "wandb Artifact.add_reference"), ("comet", "comet_ml Artifact.add_remote")):
        log.start()
        first = run_peer(ctx["peer_python"], peer, uri, n)
        if "error" in first:
            notes[label] = first["error"]
            continue
        requests[label] = len(log.lines())
        notes[f"{label} assets"] = first["assets"]

        def peer_run(peer: str = peer) -> float:
            out = run_peer(ctx["peer_python"], peer, uri, n)
            return float(out["seconds"])

        runs[label] = peer_run
    med = alternate(runs, ctx["reps"])
    notes["requests (one run)"] = requests
    notes["server cost of one request (ms, median of 3)"] = request_costs(s3, bucket, versioned)
    return show(f"resolve a prefix of {n} objects ({'versioned' if versioned else 'unversioned'} bucket)",
                med, notes)


def request_costs(s3: Any, bucket: str, versioned: bool) -> dict[str, float]:
    """What one listing page and one HEAD cost on this server: the floor of a
    listing is pages x page cost, a per-object peer pays objects x HEAD cost.
    (moto deep-copies every version in the bucket for each ListObjectVersions
    page, so there a page costs the same whether it returns 1 key or 1,000.)"""
    op = s3.list_object_versions if versioned else s3.list_objects_v2
    name = "ListObjectVersions" if versioned else "ListObjectsV2"

    def ms(fn: Callable[[], object]) -> float:
        return round(statistics.median(timed(fn) for _ in range(3)) * 1000, 1)

    return {f"{name} page of 1000": ms(lambda: op(Bucket=bucket, Prefix="data/", MaxKeys=1000)),
            f"{name} page of 1": ms(lambda: op(Bucket=bucket, Prefix="data/", MaxKeys=1)),
            "HeadObject": ms(lambda: s3.head_object(Bucket=bucket, Key="data/000000.bin"))}


def scenario_resolve_gcs(ctx: dict) -> dict:
    import tether

    n = ctx["size"]["resolve_gcs"]
    server = ctx["gcs"]
    import urllib.request

    bucket = f"res-{uuid.uuid4().hex[:8]}"
    req = urllib.request.Request(f"{server.url}/storage/v1/b?project=bench",
                                 data=json.dumps({"name": bucket}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()

    def put(i: int) -> None:
        r = urllib.request.Request(f"{server.url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=data/{i:06d}",
                                   data=b"x" * 64, method="POST", headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(r).read()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(n)))
    uri = f"gs://{bucket}/data/"
    os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
    import gcsfs.core

    fs = gcsfs.core.GCSFileSystem(endpoint_url=server.url, token="anon", project="bench",
                                  skip_instance_cache=True, use_listings_cache=False)

    def tether_resolve() -> None:
        assert len(tether.Artifact("g").add_remote(uri, max_objects=n)) == n

    def gcsfs_find() -> None:
        assert len(fs.find(f"{bucket}/data/", detail=True)) == n

    with environ(STORAGE_EMULATOR_HOST=server.url):
        med = alternate({"tether": tether_resolve, "gcsfs find(detail=True)": gcsfs_find}, ctx["reps"])
    return show(f"resolve a GCS prefix of {n} objects", med)


class Helper:
    """A bench helper process (bench/*.py) that prints ``ready <port> ...`` and serves until
    its stdin is closed."""

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen([sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().split() if self.proc.stdout else []
        if not line or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start")
        self.port, self.extra = int(line[1]), line[2:]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def scenario_resolve_scale(ctx: dict) -> list[dict]:
    """A large prefix over a 50 ms link: tether against the sequential boto3 paginator.

    moto runs behind bench/latency_proxy.py, which delays every request by LATENCY and
    replays listing pages it has fetched once (a warm-up run of each contender, which also
    checks that both list the same keys in the same order), so the timed runs measure the
    clients, not moto (bench/scale_server.py fills the buckets through moto's backend)."""
    import boto3

    import tether

    size = ctx["size"]
    folders, per, flat = size["scale_folders"], size["scale_per_folder"], size["scale_flat"]
    tag = uuid.uuid4().hex[:6]
    cases = [(f"scale-u-{tag}", False, folders), (f"scale-v-{tag}", True, folders), (f"scale-f-{tag}", False, 0)]
    spec = [{"bucket": b, "versioned": v, "prefixes": f, "per_prefix": per, "flat": 0 if f else flat}
            for b, v, f in cases]
    t0 = time.perf_counter()
    server = Helper(str(ROOT / "bench" / "scale_server.py"), json.dumps(spec))
    proxy = Helper(str(ROOT / "bench" / "latency_proxy.py"), str(server.port), str(LATENCY))
    filled = time.perf_counter() - t0
    results = []
    try:
        s3 = boto3.client("s3", endpoint_url=proxy.url)

        def stats(reset: bool = False) -> dict:
            import urllib.request

            with urllib.request.urlopen(f"{proxy.url}/__proxy__/{'reset' if reset else 'stats'}") as r:
                return json.loads(r.read())

        for bucket, versioned, nfolders in cases:
            n = nfolders * per if nfolders else flat
            tether.configure("s3", bucket=bucket, endpoint_url=proxy.url)
            uri = f"s3://{bucket}/data/"
            op, key = ("list_object_versions", "Versions") if versioned else ("list_objects_v2", "Contents")
            got: dict[str, list[str]] = {}

            def tether_resolve() -> None:
                assets = tether.Artifact("scale").add_remote(uri, max_objects=n)
                got["tether"] = [a.uri for a in assets]

            def paginator() -> None:
                got["paginator"] = [f"s3://{bucket}/{r['Key']}" for p in s3.get_paginator(op).paginate(
                    Bucket=bucket, Prefix="data/") for r in p.get(key, [])]

            runs: dict[str, Callable[[], float | None]] = {"tether": tether_resolve,
                                                            f"boto3 {op} paginator (sequential)": paginator}
            requests = {}
            for name, fn in runs.items():  # warm-up: fills the proxy's pages, counts requests
                stats(reset=True)
                fn()
                requests[name] = {k: v for k, v in stats().items() if k in ("requests", "max_in_flight")}
            assert got["tether"] == got["paginator"] and len(got["tether"]) == n, "tether and boto3 differ"
            stats(reset=True)
            med = alternate(runs, ctx["reps"])
            replay = stats()
            shape = f"{nfolders} sub-folders of {per}" if nfolders else "one flat folder"
            results.append(show(
                f"scale: list {n} objects in {shape} ({'versioned' if versioned else 'unversioned'} bucket) "
                f"over a {LATENCY * 1000:.0f} ms link", med, {
                    "requests (one run)": requests,
                    "tether is faster by (x; target >= 8 nested, flat ratio <= 1.05)":
                        round(med[f"boto3 {op} paginator (sequential)"] / med["tether"], 2),
                    "same objects in the same order": True,
                    "timed runs answered from replayed pages": f"{replay.get('replayed', 0)} of "
                                                               f"{replay.get('requests', 0)} requests",
                    "buckets filled and served in (s)": round(filled, 1)}))
    finally:
        proxy.stop()
        server.stop()
    return results


def scenario_small(ctx: dict) -> dict:
    import s3fs

    import tether

    s3, n = ctx["s3"], ctx["size"]["small"]
    bucket = f"small-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    payload = os.urandom(16 * 1024)
    put_many(s3, bucket, [f"small/{i:05d}" for i in range(n)], payload)
    art = tether.Artifact("small")
    art.add_remote(f"s3://{bucket}/small/")
    version = tether.Catalog().log(art)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    out = ctx["home"] / "small-out"

    def tether_download() -> None:
        assert version.download(out).ok

    def s3fs_get() -> None:
        fs.get(f"{bucket}/small/", str(out) + "/", recursive=True)

    def boto3_pool() -> None:
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda i: ctx["s3"].download_file(bucket, f"small/{i:05d}", str(out / f"{i:05d}")),
                          range(n)))

    med = alternate({"tether": tether_download, "s3fs fs.get (unverified)": s3fs_get,
                     "boto3 32-thread pool (unverified)": boto3_pool}, ctx["reps"],
                    setup=lambda: fresh_folder(out))
    return show(f"download {n} x 16 KB objects, tether verifying md5", med, {
        "peers": "W&B and Comet download a logged artifact through their tracking server; with no "
                 "server here (offline) their download cannot run, so they are not compared"})


def scenario_large(ctx: dict) -> dict:
    import s3fs

    import tether

    s3, size = ctx["s3"], ctx["size"]["large"]
    bucket = f"large-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    src = ctx["home"] / "large.bin"
    with open(src, "wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    with open(src, "rb") as f:  # one PUT with a whole-object SHA256 that tether records and verifies
        s3.put_object(Bucket=bucket, Key="large.bin", Body=f, ChecksumAlgorithm="SHA256")
    src.unlink()
    art = tether.Artifact("large")
    (asset,) = art.add_remote(f"s3://{bucket}/large.bin")
    assert "sha256" in asset.checksums
    version = tether.Catalog().log(art)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    out = ctx["home"] / "large-out"

    med = alternate({
        "tether": lambda: version.download(out) and None,
        "boto3 download_file (TransferManager)": lambda: ctx["s3"].download_file(bucket, "large.bin",
                                                                                  str(out / "x")),
        "s3fs get_file": lambda: fs.get_file(f"{bucket}/large.bin", str(out / "y")),
    }, ctx["reps"], setup=lambda: fresh_folder(out))
    mib_s = {k: size / MiB / v for k, v in med.items()}
    return show(f"download one {size // MiB} MiB object, tether verifying sha256", med,
                {"MiB/s": {k: round(v, 1) for k, v in mib_s.items()}})


def scenario_large_multipart(ctx: dict) -> dict:
    """The same download for an object uploaded in parts (boto3 ``upload_file``, 8 MiB parts):
    its only checksum is the multipart ETag, which tether recomputes while streaming."""
    import s3fs
    from boto3.s3.transfer import TransferConfig

    import tether

    s3, size = ctx["s3"], ctx["size"]["large"]
    bucket = f"largemp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    src = ctx["home"] / "large-mp.bin"
    with open(src, "wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    chunk = 8 * MiB if size >= 16 * MiB else 5 * MiB
    s3.upload_file(str(src), bucket, "large.bin",
                   Config=TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk))
    src.unlink()
    art = tether.Artifact("large-mp")
    (asset,) = art.add_remote(f"s3://{bucket}/large.bin")
    verification = getattr(asset, "verification", "size-only")
    version = tether.Catalog().log(art)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    out = ctx["home"] / "large-mp-out"

    med = alternate({
        "tether": lambda: version.download(out) and None,
        "boto3 download_file (TransferManager)": lambda: ctx["s3"].download_file(bucket, "large.bin",
                                                                                  str(out / "x")),
        "s3fs get_file": lambda: fs.get_file(f"{bucket}/large.bin", str(out / "y")),
    }, ctx["reps"], setup=lambda: fresh_folder(out))
    mib_s = {k: size / MiB / v for k, v in med.items()}
    return show(f"download one {size // MiB} MiB multipart-uploaded object ({size // chunk} parts), "
                f"tether verifying {verification}", med,
                {"MiB/s": {k: round(v, 1) for k, v in mib_s.items()}, "verification": verification})


def scenario_local(ctx: dict) -> dict:
    import tether

    n, total = ctx["size"]["local_files"], ctx["size"]["local_bytes"]
    folder = ctx["home"] / "local-folder"
    per = total // n
    block = os.urandom(per)
    for i in range(n):
        d = folder / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:06d}.bin").write_bytes(block[:8] + i.to_bytes(8, "little") + block[16:])
    old = time.time() - 60  # older than the state cache's racy window
    for p in folder.rglob("*.bin"):
        os.utime(p, (old, old))
    cores = os.cpu_count() or 1

    def sha256sum() -> None:
        subprocess.run(f"find {folder} -type f -print0 | xargs -0 -n 200 -P {cores} sha256sum > /dev/null",
                       shell=True, check=True)

    phases: dict[str, list[float]] = {"resolve": [], "record": []}

    def log_folder() -> tether.ArtifactVersion:
        # The whole log a user runs: resolve (hash) the folder, then record the version.
        t0 = time.perf_counter()
        art = tether.Artifact("local")
        art.add_remote(str(folder), max_objects=n)
        t1 = time.perf_counter()
        version = tether.Catalog().log(art)
        phases["resolve"].append(t1 - t0)
        phases["record"].append(time.perf_counter() - t1)
        return version

    def tether_cold() -> None:
        # A new catalog and an empty checksum cache each time: nothing is known yet.
        home = ctx["home"] / f"local-home-{uuid.uuid4().hex}"
        os.environ["TETHER_HOME"] = str(home)
        os.environ["TETHER_CACHE_DIR"] = str(home / "cache")
        assert len(log_folder().assets) == n

    # tether_cold points these at a new folder each run; put them back afterwards.
    with environ(TETHER_HOME=os.environ.get("TETHER_HOME"), TETHER_CACHE_DIR=os.environ.get("TETHER_CACHE_DIR")):
        med = alternate({"tether": tether_cold, f"sha256sum x{cores} (xargs -P)": sha256sum}, ctx["reps"])
        first = {k: statistics.median(v) for k, v in phases.items()}
        tether_cold()  # the version and the cache the re-logs find
        for v in phases.values():
            v.clear()
        relog = statistics.median(timed(log_folder) for _ in range(ctx["reps"]))
        again = {k: statistics.median(v) for k, v in phases.items()}
    return show(f"log a local folder: {total // MiB} MiB in {n} files (page cache warm for all)", med, {
        "first log: resolve + record (ms)": f"{first['resolve'] * 1000:.0f} + {first['record'] * 1000:.0f}",
        "unchanged re-log, whole (state cache; the same version comes back)":
            f"{relog * 1000:.1f} ms = {relog / med['tether']:.1%} of the first log",
        "unchanged re-log, resolve only (add_remote)":
            f"{again['resolve'] * 1000:.1f} ms = {again['resolve'] / first['resolve']:.1%} of the first resolve",
    })


CATALOG_CHILD = r"""
import json, os, resource, sys, time
import tether
from tether.models import Asset
mode, n = sys.argv[1], int(sys.argv[2])


def hwm_kib():
    # VmHWM is this process image's peak RSS; ru_maxrss would carry the parent's
    # peak across fork+exec and hide ours.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


base = hwm_kib()
out = {}
cat = tether.Catalog()
if mode in ("log", "relog"):
    import hashlib
    t0 = time.perf_counter()
    art = tether.Artifact("huge")
    seed = hashlib.sha256(b"tether-bench")
    from tether.nogc import gc_paused
    paused = gc_paused()  # as add_remote builds its assets: without the cycle collector
    paused.__enter__()
    for i in range(n):  # what add_remote builds from an S3 listing (ETag = md5, version ids)
        uri = f"s3://bench-bucket/dataset/shard-{i // 1000:03d}/part-{i:07d}.parquet"
        h = seed.copy()
        h.update(i.to_bytes(8, "little"))  # random-looking, and the same in the relog run
        digest = h.hexdigest()
        etag = digest[:32]
        path = uri[26:]
        art._assets[path] = Asset(logical_path=path, link=uri, uri=uri, size=1_000_000 + i,
                                      checksums={"etag": etag, "md5": etag}, version_id=digest[32:],
                                      last_modified="2026-11-25T10:00:00Z", source="s3://bench-bucket/dataset/")
    paused.__exit__(None, None, None)
    out["build_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    v = cat.log(art)
    out["log_s"] = time.perf_counter() - t1
    assert v.version == 1  # relog: the same content, compared by digest, is the same version
    root = cat._driver.path_of(cat.root)
    man = next(iter(__import__("pathlib").Path(root).rglob("manifests/*")))
    out["manifest_bytes"] = man.stat().st_size
else:
    t2 = time.perf_counter()
    back = cat.get("huge")
    out["read_s"] = time.perf_counter() - t2
    assert len(back.assets) == n
out["peak_rss_kib_over_import"] = hwm_kib() - base
print(json.dumps(out))
"""


def scenario_catalog(ctx: dict) -> dict:
    n = ctx["size"]["catalog"]
    logs, reads, relogs = [], [], []
    for _ in range(ctx["reps"]):
        with environ(TETHER_HOME=str(ctx["home"] / f"cat-{uuid.uuid4().hex}")):
            # separate processes: peak memory of each; relog = the same assets again (a diff by digest)
            for mode, into in (("log", logs), ("read", reads), ("relog", relogs)):
                r = subprocess.run([sys.executable, "-c", CATALOG_CHILD, mode, str(n)], capture_output=True,
                                   text=True, check=True)
                into.append(json.loads(r.stdout))

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    notes = {
        "build assets (s)": round(med(logs, "build_s"), 3),
        "log (s)": round(med(logs, "log_s"), 3), "read back (s)": round(med(reads, "read_s"), 3),
        "build + log (s)": round(med(logs, "build_s") + med(logs, "log_s"), 3),
        "relog unchanged, build + compare (s)": round(med(relogs, "build_s") + med(relogs, "log_s"), 3),
        "manifest bytes per asset (gzip JSON)": round(med(logs, "manifest_bytes") / n, 1),
        "peak RSS per asset, building + logging (bytes)": round(med(logs, "peak_rss_kib_over_import") * 1024 / n),
        "peak RSS per asset, reading back (bytes)": round(med(reads, "peak_rss_kib_over_import") * 1024 / n),
        "peak RSS per asset, relog (bytes)": round(med(relogs, "peak_rss_kib_over_import") * 1024 / n),
    }
    return show(f"catalog: log and read back a version of {n} assets",
                {"tether": med(logs, "log_s") + med(reads, "read_s")}, notes)


DIFF_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
import tether
from tests.ui.catalogs import big
n = int(sys.argv[1])
big(tether.Catalog().root, n)  # huge:1 and huge:2: 10% removed, 1 in 7 changed, 1% added
cat = tether.Catalog()
out = {"read_s": [], "diff_s": [], "page_s": []}
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    a, b = cat.get("huge:1"), cat.get("huge:2")
    t1 = time.perf_counter()
    d = a.diff(b)
    t2 = time.perf_counter()
    out["read_s"].append(t1 - t0)
    out["diff_s"].append(t2 - t1)
    out["counts"] = d.counts()
try:  # the ui's first page of the version, from a cold server (the ui extra installed)
    from starlette.testclient import TestClient
    from tether.ui.app import create_app
    for _ in range(int(sys.argv[3])):
        client = TestClient(create_app(cat.root))
        t = time.perf_counter()
        assert client.get("/a/huge/v/1").status_code == 200
        out["page_s"].append(time.perf_counter() - t)
except ImportError:
    out["page_s"] = None
print(json.dumps(out))
"""


def scenario_diff(ctx: dict) -> dict:
    """Diff two versions of n assets (a merge pass over both sorted manifests),
    against reading the two manifests it needs; and the ui's first page of one."""
    n = ctx["size"]["diff"]
    with environ(TETHER_HOME=str(ctx["home"] / f"diff-{uuid.uuid4().hex}")):
        r = subprocess.run([sys.executable, "-c", DIFF_CHILD, str(n), str(ROOT), str(ctx["reps"])],
                           capture_output=True, text=True, check=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    read, diff = statistics.median(out["read_s"]), statistics.median(out["diff_s"])
    notes: dict[str, object] = {"changes": out["counts"], "diff / read ratio": round(diff / read, 3)}
    if out["page_s"]:
        notes["ui first page of a version, cold server (s)"] = round(statistics.median(out["page_s"]), 3)
    return show(f"diff: two versions of {n} assets, against reading their two manifests",
                {"tether": diff, "read the two manifests (Catalog.get x2)": read}, notes)


def scenario_import(ctx: dict) -> dict:
    def import_us(mod: str) -> int:
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {mod}"],
                             capture_output=True, text=True, check=True).stderr
        line = [ln for ln in err.splitlines() if ln.rstrip().endswith(f"| {mod}")][-1]
        return int(line.split("|")[1])

    heavy = subprocess.run([sys.executable, "-c", "import sys, tether; print(sorted({m.split('.')[0] for m in "
                            "sys.modules} & {'boto3','botocore','aiobotocore','google','s3fs','gcsfs'}))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    t = statistics.median(import_us("tether") for _ in range(max(3, ctx["reps"])))
    f = statistics.median(import_us("fsspec") for _ in range(max(3, ctx["reps"])))
    return show("import (python -X importtime, cumulative)", {"tether": t / 1e6, "fsspec": f / 1e6},
                {"heavy modules imported by `import tether`": heavy, "heavy_modules": heavy})


def scenario_runs(ctx: dict) -> list[dict]:
    """A three-step pipeline, then N unrelated runs: what lineage and the run list cost among them."""
    import datetime as dt

    import tether
    from tether.catalog.runs import RUN_SCHEMA, RunStore, new_run_id
    from tether.parallel import parallel_map

    from tests.runs_helpers import CountingDriver

    n = ctx["size"]["runs"]
    root = ctx["home"] / f"runs-{uuid.uuid4().hex}"
    cat = tether.Catalog(root)
    work = ctx["home"] / "runs-files"
    work.mkdir(exist_ok=True)
    for name in ("raw", "clean", "model"):
        (work / name).write_text(name)

    def art(name: str) -> tether.Artifact:
        a = tether.Artifact(name)
        a.add(work / name)
        return a

    cat.log(art("raw"), aliases=["prod"])
    with tether.Run("prepare", catalog=cat) as prep:
        prep.use("raw@prod")
        prep.log(art("clean"), aliases=["prod"])
    with tether.Run("train", catalog=cat) as train:
        train.use("clean@prod")
        train.log(art("model"))
    with tether.Run("evaluate", catalog=cat) as ev:
        ev.use("model")
    counting = CountingDriver.install(cat)

    def lineage() -> None:
        cat.lineage("model:1", upstream=2, downstream=1)

    lineage()
    few = dict(counting.calls)
    store = RunStore(cat)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    def fill(i: int) -> None:  # unrelated finished runs, through the store's own writes
        at = start + dt.timedelta(seconds=i)
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        store.create({"schema": RUN_SCHEMA, "id": new_run_id(at), "name": f"job-{i % 20}", "status": "finished",
                      "started_at": stamp, "ended_at": stamp, "heartbeat_at": stamp})

    parallel_map(fill, range(n), 32)
    counting.reset()
    lineage()
    many = dict(counting.calls)
    counting.reset()
    newest = cat.runs(limit=50)
    listing = dict(counting.calls)
    assert len(newest) == 50 and newest[0].name == "evaluate"
    counting.reset()
    named = cat.runs(name="train", limit=50)
    by_name = dict(counting.calls)
    assert [r.name for r in named] == ["train"]
    t_lineage = alternate({"tether": lineage}, max(3, ctx["reps"]))
    t_runs = alternate({"tether": lambda: cat.runs(limit=50)}, max(3, ctx["reps"]))
    return [
        show(f"runs: lineage of a version (upstream 2, downstream 1) among {n + 3} runs", t_lineage,
             {"requests with 3 runs in the catalog": few, f"requests with {n + 3} runs": many,
              "requests grow with the catalog": many != few}),
        show(f"runs: the newest 50 of {n + 3} runs", t_runs,
             {"requests (one listing, 50 record reads)": listing,
              "requests for runs(name=...) (one listing of the name's index)": by_name}),
    ]


SCENARIOS = {
    "resolve": lambda ctx: [scenario_resolve(ctx, False), scenario_resolve(ctx, True)],
    "resolve-gcs": lambda ctx: [scenario_resolve_gcs(ctx)],
    "scale": scenario_resolve_scale,
    "small": lambda ctx: [scenario_small(ctx)],
    "large": lambda ctx: [scenario_large(ctx), scenario_large_multipart(ctx)],
    "local": lambda ctx: [scenario_local(ctx)],
    "catalog": lambda ctx: [scenario_catalog(ctx)],
    "diff": lambda ctx: [scenario_diff(ctx)],
    "import": lambda ctx: [scenario_import(ctx)],
    "runs": scenario_runs,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--resolve", type=int, default=None, help="objects for the resolve scenario (e.g. 100000)")
    ap.add_argument("--catalog", type=int, default=None, help="assets for the catalog scenario (e.g. 1000000)")
    ap.add_argument("--peer-python", default=os.environ.get("TETHER_BENCH_PEER_PYTHON"),
                    help="python of a venv with wandb and comet_ml (see bench/README.md)")
    args = ap.parse_args()
    size = dict(SIZES[args.size])
    if args.resolve:
        size["resolve"] = args.resolve
    if args.catalog:
        size["catalog"] = args.catalog
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenarios {sorted(unknown)}")

    home = Path(tempfile.mkdtemp(prefix="tether-bench-"))
    moto = start_moto()
    gcs = start_fake_gcs() if "resolve-gcs" in only else None
    results: list[dict] = []
    try:
        with environ(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                     AWS_ENDPOINT_URL_S3=moto.url, AWS_S3_ENDPOINT_URL=moto.url, AWS_EC2_METADATA_DISABLED="true",
                     AWS_PROFILE=None, TETHER_HOME=str(home / "home"), TETHER_CACHE_DIR=None,
                     WANDB_MODE="offline", WANDB_DIR=str(home / "wandb"), COMET_API_KEY="offline-bench"):
            import boto3

            ctx = {"s3": boto3.client("s3"), "moto": moto, "gcs": gcs, "size": size, "home": home,
                   "reps": args.reps or size["reps"], "peer_python": args.peer_python}
            for name in only:
                results.extend(SCENARIOS[name](ctx))
    finally:
        moto.stop()
        if gcs:
            gcs.stop()
        shutil.rmtree(home, ignore_errors=True)
    doc = {"size": args.size, "sizes": size, "machine": {"python": platform.python_version(),
                                                         "cpus": os.cpu_count(), "platform": platform.platform()},
           "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "results": results}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{args.size}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(doc, indent=2, default=str))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
