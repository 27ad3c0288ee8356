"""``tether://`` over S3 (moto): pandas, pyarrow and a real Dask cluster read a
version in place, pinned to the recorded object versions."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether.errors import DriftError

N_FILES = 12


def parquet_bytes(i: int) -> bytes:
    import pandas as pd

    buf = io.BytesIO()
    pd.DataFrame({"part": [i] * 50, "value": range(i * 50, i * 50 + 50)}).to_parquet(buf)
    return buf.getvalue()


def log_sales(s3_client, bucket: str, catalog: Path) -> dict[str, bytes]:
    files = {f"2026/part-{i:02d}.parquet": parquet_bytes(i) for i in range(N_FILES)}
    files["notes/readme.txt"] = b"not parquet"
    for key, body in files.items():
        s3_client.put_object(Bucket=bucket, Key=f"sales/{key}", Body=body)
    art = tether.Artifact("sales")
    art.add_remote(f"s3://{bucket}/sales/")
    tether.Catalog(catalog).log(art, aliases=["prod"])
    return files


def run(code: str, catalog: Path) -> subprocess.CompletedProcess[str]:
    # No tether import in the reading code: fsspec finds tether:// through its entry point.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env={**os.environ, "TETHER_CATALOG": str(catalog)})


@pytest.mark.parametrize("bucket_kind", ["bucket", "versioned_bucket"])
def test_pandas_and_pyarrow_read_parquet_of_a_version_with_no_tether_import(s3_client, bucket_kind, request,
                                                                           tmp_path: Path) -> None:
    bucket = request.getfixturevalue(bucket_kind)
    log_sales(s3_client, bucket, tmp_path / "catalog")
    code = r"""
import json, os, sys
import pandas as pd
assert "tether" not in sys.modules
glob = pd.read_parquet("tether://sales@prod/2026/*.parquet")
folder = pd.read_parquet("tether://sales:v1/2026/")
one = pd.read_parquet("tether://sales@prod/2026/part-03.parquet")
import fsspec, pyarrow.dataset as ds
table = ds.dataset("sales@prod/2026", filesystem=fsspec.filesystem("tether"), format="parquet").to_table()
print(json.dumps({"glob": [len(glob), int(glob.value.sum())], "folder": len(folder),
                  "one": sorted(set(one.part)), "pyarrow": table.num_rows,
                  "loaded": "tether.fs" in sys.modules}), flush=True)
"""
    r = run(code, tmp_path / "catalog")
    assert r.returncode == 0 and "terminate called" not in r.stderr, r.stderr[-3000:]
    out = json.loads(r.stdout)
    total = sum(range(N_FILES * 50))
    assert out == {"glob": [N_FILES * 50, total], "folder": N_FILES * 50, "one": [3], "pyarrow": N_FILES * 50,
                   "loaded": True}


READ_AND_EXIT = r"""
import pandas as pd, fsspec, pyarrow.dataset as ds
frame = pd.read_parquet("tether://sales@prod/2026/*.parquet")
table = ds.dataset("sales@prod/2026", filesystem=fsspec.filesystem("tether"), format="parquet").to_table()
print(len(frame), table.num_rows, flush=True)
"""


def test_a_reader_exits_normally_after_pyarrow_reads(s3_client, bucket: str, tmp_path: Path) -> None:
    """pyarrow reads a Python file on its C++ I/O threads and may drop the last
    reference to a buffer tether returned there, after the read completed; a
    process exiting at that moment used to abort ("terminate called without an
    active exception", exit -6, about one run in thirty on this machine) after
    every read succeeded. Several children, each a normal interpreter exit."""
    log_sales(s3_client, bucket, tmp_path / "catalog")
    for _ in range(5):
        r = run(READ_AND_EXIT, tmp_path / "catalog")
        assert r.returncode == 0 and "terminate called" not in r.stderr, (r.returncode, r.stderr[-3000:])
        assert r.stdout.split() == [str(N_FILES * 50)] * 2


def test_a_versioned_object_overwritten_after_logging_still_reads_the_logged_bytes(
        s3_client, versioned_bucket: str, tmp_path: Path) -> None:
    files = log_sales(s3_client, versioned_bucket, tmp_path / "catalog")
    s3_client.put_object(Bucket=versioned_bucket, Key="sales/notes/readme.txt", Body=b"rewritten!!")
    from tether.fs import TetherFileSystem

    fs = TetherFileSystem(catalog=str(tmp_path / "catalog"), skip_instance_cache=True)
    assert fs.cat("sales@prod/notes/readme.txt") == files["notes/readme.txt"]


@pytest.fixture(scope="module")
def dask_client(moto_server):
    """A real local Dask cluster: two worker processes on 127.0.0.1."""
    import distributed  # a test dependency (requirements-test.txt): never skipped
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def read_all(client, catalog: Path) -> list[bytes]:
    from dask.bytes import read_bytes

    # One task per file (blocksize=None), each reading the whole file on a worker.
    _, blocks = read_bytes("tether://sales@prod/**", blocksize=None, catalog=str(catalog))
    return [b for (b,) in client.compute(blocks, sync=True)]


def test_a_dask_cluster_reads_every_file_of_a_version_in_parallel(s3_client, bucket: str, tmp_path: Path,
                                                                  dask_client) -> None:
    files = log_sales(s3_client, bucket, tmp_path / "catalog")
    got = read_all(dask_client, tmp_path / "catalog")
    assert sorted(got) == sorted(files.values())
    workers = dask_client.run(lambda: "tether.fs" in sys.modules)
    assert len(workers) == 2 and all(workers.values())  # both worker processes read


def test_a_changed_object_on_an_unversioned_bucket_fails_dask_reads_with_drift(s3_client, bucket: str,
                                                                               tmp_path: Path, dask_client) -> None:
    log_sales(s3_client, bucket, tmp_path / "catalog")
    s3_client.put_object(Bucket=bucket, Key="sales/2026/part-05.parquet", Body=parquet_bytes(99))
    with pytest.raises(DriftError, match="part-05.parquet"):
        read_all(dask_client, tmp_path / "catalog")
