"""Faults on the wire between tether and fake-gcs-server: every file verified, or a clear error."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tether

from ..faults import FaultProxy

N_OBJECTS = 1000


def test_gcs_download_through_a_faulty_network(gcs_server, gcs_admin, gcs_bucket, monkeypatch,
                                               tmp_path: Path) -> None:
    files = {f"obj/{i:04d}": os.urandom(256 + i % 2000) for i in range(N_OBJECTS)}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: gcs_admin.put(gcs_bucket, kv[0], kv[1]), files.items()))
    art = tether.Artifact("faulty-gcs")
    art.add_remote(f"gs://{gcs_bucket}/obj/")
    version = tether.Catalog().log(art)
    proxy = FaultProxy(gcs_server.port, {"reset": 0.03, "error": 0.03, "stall": 0.005, "truncate": 0.03,
                                         "flip": 0.03}, stall_seconds=2.5,
                       is_object_read=lambda method, path, headers: method == "GET" and "alt=media" in path)
    try:
        tether.configure("gs", endpoint_url=proxy.url, read_timeout=1)
        monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.05")
        dest = tmp_path / "out"
        result = version.download(dest, workers=16, raise_on_error=False)
    finally:
        proxy.stop()
    assert set(proxy.injected) == {"reset", "error", "stall", "truncate", "flip"}, proxy.injected
    for rel, data in files.items():
        p = dest / rel[len("obj/"):]
        if p.exists():
            assert p.read_bytes() == data
    assert [p.name for p in dest.rglob("*") if ".tether-" in p.name] == []
    assert result.ok, [o.error for o in result.with_status("failed")][:3]
    assert version.verify(dest).ok
