"""tether benchmarks against the raw clients, on a moto S3 server on 127.0.0.1.

    python bench/run.py            # default sizes (10,000-object listing, 2,000 x 16 KB download)
    python bench/run.py --smoke    # tiny sizes: proves the suite runs (used by the test suite)

Each scenario alternates tether and its comparisons, repeats, and reports medians and the ratio
tether / comparison (below 1.0 means tether is faster), plus request counts where they matter.
Results are also written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import start_moto  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternate(runs: dict[str, object], reps: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            times[name].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def report(title: str, med: dict[str, float], extra: dict[str, object] | None = None) -> dict:
    base = med["tether"]
    print(f"\n## {title}")
    for name, t in med.items():
        ratio = "" if name == "tether" else f"   tether/{name} = {base / t:.2f}x"
        print(f"  {name:28} {t * 1000:9.1f} ms{ratio}")
    for k, v in (extra or {}).items():
        print(f"  {k}: {v}")
    return {"title": title, "median_seconds": med,
            "ratios": {k: base / v for k, v in med.items() if k != "tether"}, **(extra or {})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args()
    n_list = 300 if args.smoke else 10_000
    n_small = 100 if args.smoke else 2_000
    reps = args.reps or (2 if args.smoke else 5)

    server = start_moto()
    home = Path(tempfile.mkdtemp(prefix="tether-bench-"))
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": server.url,
                       "AWS_EC2_METADATA_DISABLED": "true", "TETHER_HOME": str(home)})
    results = []
    try:
        import boto3
        import s3fs

        import tether

        s3 = boto3.client("s3")
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)

        def put_many(keys: list[str], body: bytes) -> None:
            with ThreadPoolExecutor(32) as pool:
                list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys))

        # 1. resolve a prefix ----------------------------------------------------------
        put_many([f"list/{i:06d}" for i in range(n_list)], b"x")

        def tether_resolve() -> None:
            assert len(tether.Artifact("b").add_remote(f"s3://{bucket}/list/", max_objects=n_list)) == n_list

        def boto3_paginator() -> None:
            n = sum(len(p.get("Contents", [])) for p in
                    s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/"))
            assert n == n_list

        before = len(re.findall(rf"GET /{bucket}/?\?[^ ]*list-type=2", server.log_text()))
        tether_resolve()
        lists = len(re.findall(rf"GET /{bucket}/?\?[^ ]*list-type=2", server.log_text())) - before
        med = alternate({"tether": tether_resolve, "boto3 ListObjectsV2 paginator": boto3_paginator}, reps)
        results.append(report(f"resolve a prefix of {n_list} objects", med,
                              {"tether list requests": lists}))

        # 2. download many small files, verified ----------------------------------------
        payload = os.urandom(16 * 1024)
        put_many([f"small/{i:05d}" for i in range(n_small)], payload)
        art = tether.Artifact("small")
        art.add_remote(f"s3://{bucket}/small/")
        version = tether.Catalog().log(art)
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        out = home / "out"

        def clean() -> None:
            shutil.rmtree(out, ignore_errors=True)

        def tether_download() -> None:
            clean()
            assert version.download(out).ok

        def s3fs_get() -> None:
            clean()
            out.mkdir(parents=True)
            fs.get(f"{bucket}/small/", str(out) + "/", recursive=True)

        def boto3_pool() -> None:
            clean()
            out.mkdir(parents=True)
            with ThreadPoolExecutor(32) as pool:
                list(pool.map(lambda i: s3.download_file(bucket, f"small/{i:05d}", str(out / f"{i:05d}")),
                              range(n_small)))

        med = alternate({"tether": tether_download, "s3fs fs.get (unverified)": s3fs_get,
                         "boto3 32-thread pool (unverified)": boto3_pool}, reps)
        results.append(report(f"download {n_small} x 16 KB, tether verified", med))

        # 6. import time ---------------------------------------------------------------
        def import_us(mod: str) -> int:
            err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {mod}"],
                                 capture_output=True, text=True, check=True).stderr
            line = [ln for ln in err.splitlines() if ln.rstrip().endswith(f"| {mod}")][-1]
            return int(line.split("|")[1])

        heavy = subprocess.run([sys.executable, "-c", "import sys, tether; print(sorted({m.split('.')[0] for m in "
                                "sys.modules} & {'boto3','botocore','aiobotocore','google','s3fs','gcsfs'}))"],
                               capture_output=True, text=True, check=True).stdout.strip()
        t_us, f_us = import_us("tether"), import_us("fsspec")
        print(f"\n## import\n  import tether {t_us / 1000:.1f} ms, import fsspec {f_us / 1000:.1f} ms, "
              f"ratio {t_us / f_us:.2f}x; heavy modules imported: {heavy}")
        results.append({"title": "import", "tether_us": t_us, "fsspec_us": f_us, "heavy_modules": heavy})
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{'smoke' if args.smoke else 'full'}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
