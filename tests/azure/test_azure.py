"""Azure-specific behaviour on Azurite: listings, ETag pins, drift, deletion, credentials, catalog."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import errors

from ..faults import FaultProxy
from ..servers import AZURITE_ACCOUNT, AZURITE_KEY

pytestmark = pytest.mark.azure


def _put(blob_service, container: str, name: str, data: bytes, **kw) -> None:
    blob_service.get_blob_client(container, name).upload_blob(data, overwrite=True, **kw)


def _put_in_blocks(blob_service, container: str, name: str, parts: list[bytes]) -> None:
    """Staged blocks + commit, as azcopy and the SDK upload large files: no Content-MD5."""
    import base64

    bc = blob_service.get_blob_client(container, name)
    ids = [base64.b64encode(f"{i:06d}".encode()).decode() for i in range(len(parts))]
    for block_id, data in zip(ids, parts):
        bc.stage_block(block_id, data)
    bc.commit_block_list(ids)


class _Counting:
    """A pass-through proxy in front of Azurite that records every request."""

    def __init__(self, azurite) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.proxy = FaultProxy(azurite.port, {}, is_object_read=self._record)

    def _record(self, method: str, path: str, headers: dict[str, str]) -> bool:
        self.seen.append((method, path, headers))
        return False

    def count(self, method: str, needle: str = "") -> int:
        return sum(1 for m, p, _ in self.seen if m == method and needle in p)


@pytest.fixture
def counting(azurite, monkeypatch):
    c = _Counting(azurite)
    monkeypatch.setenv("TETHER_AZ_ENDPOINT_URL", f"{c.proxy.url}/{AZURITE_ACCOUNT}")
    tether.config.reset()
    yield c
    c.proxy.stop()


# ------------------------------------------------------------------ listing
def test_a_prefix_is_one_paginated_listing_with_md5_etag_and_time(blob_service, container, counting,
                                                                  monkeypatch) -> None:
    import tether_azure

    names = [f"ds/part-{i}.bin" for i in range(7)]
    for i, n in enumerate(names):
        _put(blob_service, container, n, f"row {i}".encode())
    monkeypatch.setattr(tether_azure, "_PAGE", 3)  # 7 blobs: 3 pages
    counting.seen.clear()
    assets = tether.Artifact("listed").add_remote(f"az://{container}/ds")
    assert sorted(a.logical_path for a in assets) == sorted(n[3:] for n in names)
    for a in assets:
        data = f"row {names.index('ds/' + a.logical_path)}".encode()
        assert a.checksums["md5"] == hashlib.md5(data).hexdigest()
        assert a.checksums["etag"].startswith("0x") and a.last_modified and a.last_modified.endswith("Z")
        assert a.version_id is None  # Azurite keeps no versions
    lists = counting.count("GET", "comp=list")
    assert lists == 3
    # resolving read no blob bytes: one HEAD (is "ds" a blob?) and the listing pages
    assert [m for m, _, _ in counting.seen if m == "GET"] == ["GET"] * lists


def test_folder_markers_and_adls_directories_are_not_assets(blob_service, container) -> None:
    _put(blob_service, container, "tree/", b"")
    _put(blob_service, container, "tree/dir", b"", metadata={"hdi_isfolder": "true"})
    _put(blob_service, container, "tree/dir/file", b"f")
    _put(blob_service, container, "tree/empty", b"")
    assets = tether.Artifact("markers").add_remote(f"az://{container}/tree")
    assert sorted(a.logical_path for a in assets) == ["dir/file", "empty"]


def test_missing_container_is_named(azurite) -> None:
    with pytest.raises(errors.ObjectNotFoundError, match="no such container") as exc:
        tether.Artifact("nocontainer").add_remote("az://no-such-container/data/")
    assert "no-such-container" in str(exc.value)
    with pytest.raises(errors.InvalidURIError, match="container name"):
        tether.Artifact("bad").add_remote("az://Bad_Name/data/")


def test_block_uploaded_blob_without_md5_is_pinned_by_etag_and_not_read(blob_service, container, counting,
                                                                       tmp_path: Path) -> None:
    _put_in_blocks(blob_service, container, "big/blocks.bin", [b"a" * 1000, b"b" * 1000])
    counting.seen.clear()
    v = tether.Catalog(tmp_path / "cat").log(_art("blocks", f"az://{container}/big"))
    (a,) = v.assets
    assert "md5" not in a.checksums and a.checksums["etag"]
    assert not any("range" in h for _, _, h in counting.seen)  # logging read no bytes
    assert v.download(tmp_path / "out").ok
    assert (tmp_path / "out" / "blocks.bin").read_bytes() == b"a" * 1000 + b"b" * 1000
    _put_in_blocks(blob_service, container, "big/blocks.bin", [b"c" * 1000, b"b" * 1000])  # same size
    result = v.download(tmp_path / "again", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "changed since it was logged" in (failed.error or "")


# ------------------------------------------------------------------ pinned reads
def _art(name: str, uri: str, **kw) -> tether.Artifact:
    art = tether.Artifact(name, **kw)
    art.add_remote(uri)
    return art


def test_overwritten_blob_is_drift_and_reads_carry_if_match(blob_service, container, counting,
                                                            tmp_path: Path) -> None:
    _put(blob_service, container, "d/a.txt", b"original")
    v = tether.Catalog(tmp_path / "cat").log(_art("drift", f"az://{container}/d"))
    etag = v.assets[0].checksums["etag"]
    counting.seen.clear()
    assert v.download(tmp_path / "ok").ok
    reads = [h for m, p, h in counting.seen if m == "GET" and "a.txt" in p]
    assert reads and all(h.get("if-match", "").strip('"') == etag for h in reads)
    _put(blob_service, container, "d/a.txt", b"modified")  # same size, new ETag
    with pytest.raises(tether.errors.DownloadError, match="changed since it was logged"):
        v.download(tmp_path / "out")
    assert not (tmp_path / "out" / "a.txt").exists()


def test_deleted_blob_is_reported_as_deleted_not_changed(blob_service, container, tmp_path: Path) -> None:
    _put(blob_service, container, "del/keep", b"k")
    _put(blob_service, container, "del/gone", b"g")
    v = tether.Catalog(tmp_path / "cat").log(_art("deleted", f"az://{container}/del"))
    blob_service.get_blob_client(container, "del/gone").delete_blob()
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert failed.logical_path == "gone"
    assert "deleted since it was logged" in failed.error and "changed" not in failed.error
    assert (tmp_path / "out" / "keep").read_bytes() == b"k"
    driver = tether.get_driver("az")
    with pytest.raises(errors.ObjectNotFoundError):
        driver.read_range(v.asset("gone"), 0, 1)


def test_version_pins_are_refused_where_the_store_keeps_no_versions(blob_service, container) -> None:
    """Azurite ignores versionid and serves the current blob: never record or
    deliver that as the pinned version."""
    import attrs

    _put(blob_service, container, "v/a", b"current")
    with pytest.raises(errors.VersionGoneError, match="no version 2024-01-01T00:00:00.0000000Z"):
        tether.Artifact("pin", strict=True).add_remote(f"az://{container}/v/a?versionid=2024-01-01T00:00:00.0000000Z")
    driver = tether.get_driver("az")
    obj = driver.stat(f"az://{container}/v/a")
    asset = tether.models.Asset.from_object("a", attrs.evolve(obj, version_id="2024-01-01T00:00:00.0000000Z"))
    assert driver.read_range(asset, 0, 7) == b"current"  # same ETag: the recorded bytes
    _put(blob_service, container, "v/a", b"changed")
    with pytest.raises(errors.DriftError, match="ignored the recorded version"):
        driver.read_range(asset, 0, 7)


# ------------------------------------------------------------------ credentials
def test_access_denied_is_link_only_and_an_error_under_strict(blob_service, container, monkeypatch) -> None:
    _put(blob_service, container, "secret/a", b"a")
    wrong = "AAAA" + AZURITE_KEY[4:]
    monkeypatch.setenv("TETHER_AZ_ACCOUNT_KEY", wrong)
    tether.config.reset()
    with pytest.warns(tether.LinkOnlyWarning, match="access denied"):
        (a,) = tether.Artifact("denied").add_remote(f"az://{container}/secret/a")
    assert a.synced is False and a.link == f"az://{container}/secret/a"
    with pytest.raises(errors.AccessDeniedError) as exc:
        tether.Artifact("denied2", strict=True).add_remote(f"az://{container}/secret/")
    assert wrong not in str(exc.value) and wrong[10:30] not in str(exc.value)


def test_read_only_sas_token_reads_but_cannot_write(blob_service, container, monkeypatch, tmp_path: Path) -> None:
    import datetime as dt

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    _put(blob_service, container, "sas/a", b"a")
    sas = generate_container_sas(AZURITE_ACCOUNT, container, account_key=AZURITE_KEY,
                                 permission=ContainerSasPermissions(read=True, list=True),
                                 expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    monkeypatch.delenv("TETHER_AZ_ACCOUNT_KEY")
    monkeypatch.setenv("TETHER_AZ_SAS_TOKEN", sas)
    tether.config.reset()
    v = tether.Catalog(tmp_path / "cat").log(_art("sas", f"az://{container}/sas"))
    assert v.download(tmp_path / "out").ok
    with pytest.raises(errors.AccessDeniedError) as exc:
        tether.Catalog(f"az://{container}/catalog").log(_art("sas2", f"az://{container}/sas"))
    sig = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    assert sig not in str(exc.value)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cat").rglob("*") if p.is_file())
    assert sig.encode() not in stored and b"sig=" not in stored


def test_anonymous_reads_of_a_public_container(blob_service, azurite, monkeypatch, tmp_path: Path) -> None:
    import uuid

    name = f"p-{uuid.uuid4().hex[:12]}"
    blob_service.create_container(name, public_access="container")
    _put(blob_service, name, "pub/a", b"public")
    monkeypatch.delenv("TETHER_AZ_ACCOUNT_KEY")
    tether.configure("az", anon=True)
    v = tether.Catalog(tmp_path / "cat").log(_art("public", f"az://{name}/pub"))
    assert v.download(tmp_path / "out").ok and (tmp_path / "out" / "a").read_bytes() == b"public"


def test_connection_string_option_and_unknown_option(container, blob_service, azurite, monkeypatch) -> None:
    _put(blob_service, container, "cs/a", b"a")
    for k in ("TETHER_AZ_ENDPOINT_URL", "TETHER_AZ_ACCOUNT_KEY", "TETHER_AZ_ACCOUNT_NAME"):
        monkeypatch.delenv(k)
    tether.config.reset()
    tether.configure("az", connection_string=f"AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                                             f"BlobEndpoint={azurite.blob_url};")
    assert len(tether.Artifact("cs").add_remote(f"az://{container}/cs")) == 1
    tether.configure("az", endpoint="http://typo")
    with pytest.raises(errors.ConfigError, match="'endpoint'.*did you mean 'endpoint_url'"):
        tether.Artifact("typo").add_remote(f"az://{container}/cs")


def test_hadoop_style_uri_names_the_container_and_account(blob_service, container, tmp_path: Path) -> None:
    _put(blob_service, container, "h/a.txt", b"hadoop")
    uri = f"abfss://{container}@{AZURITE_ACCOUNT}.dfs.core.windows.net/h"
    v = tether.Catalog(tmp_path / "cat").log(_art("hadoop", uri))
    (a,) = v.assets
    assert a.uri == f"az://{container}@{AZURITE_ACCOUNT}.dfs.core.windows.net/h/a.txt"
    assert v.download(tmp_path / "out").ok and (tmp_path / "out" / "a.txt").read_bytes() == b"hadoop"


def test_import_tether_does_not_import_the_azure_sdk(azurite) -> None:
    code = ("import sys, tether; d = tether.get_driver('az'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'azure', 'adlfs'}))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ transient faults
def test_transient_errors_are_retried_and_bytes_verified(blob_service, container, azurite, monkeypatch,
                                                        tmp_path: Path) -> None:
    files = {f"f/{i}.bin": os.urandom(20_000 + i) for i in range(20)}
    for name, data in files.items():
        _put(blob_service, container, name, data)
    v = tether.Catalog(tmp_path / "cat").log(_art("faulty", f"az://{container}/f"))
    proxy = FaultProxy(azurite.port, {"error": 0.2, "reset": 0.1, "flip": 0.1},
                       is_object_read=lambda m, p, h: m == "GET" and "comp=" not in p)
    try:
        monkeypatch.setenv("TETHER_AZ_ENDPOINT_URL", f"{proxy.url}/{AZURITE_ACCOUNT}")
        monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0")
        tether.config.reset()
        result = v.download(tmp_path / "out", workers=4)
    finally:
        proxy.stop()
    assert result.ok and set(proxy.injected) == {"error", "reset", "flip"}
    for name, data in files.items():
        assert (tmp_path / "out" / name[2:]).read_bytes() == data


# ------------------------------------------------------------------ catalog and round trip
def _log_to_az_catalog(args: tuple[str, str, int]) -> int:
    root, container, i = args
    tether.get_driver("az").write_bytes(f"az://{container}/src/{i}", str(i).encode())
    return tether.Catalog(root).log(_art("team-data", f"az://{container}/src/{i}"), aliases=["newest"]).version


def test_concurrent_writer_processes_on_an_az_catalog(container) -> None:
    root = f"az://{container}/catalog"
    with multiprocessing.get_context("spawn").Pool(12) as pool:
        got = pool.map(_log_to_az_catalog, [(root, container, i) for i in range(12)])
    assert sorted(got) == list(range(1, 13))
    cat = tether.Catalog(root)
    assert [v.version for v in cat.versions("team-data")] == list(range(1, 13))
    assert len({cat.get("team-data", version=n).assets[0].uri for n in range(1, 13)}) == 12
    assert cat.aliases("team-data")["newest"] in range(1, 13)


def test_quickstart_round_trip_on_azure(blob_service, container, tmp_path: Path) -> None:
    """The quickstart's loop with everything on Azure: a logged prefix, local
    files uploaded, a change, an old version restored and verified."""
    _put(blob_service, container, "raw/train.csv", b"x,y\n1,2\n")
    _put(blob_service, container, "raw/labels/classes v1.txt", b"cat\ndog\n")
    local = tmp_path / "local"
    local.mkdir()
    (local / "README").write_text("toy dataset\n")
    cat = tether.Catalog(f"az://{container}/tether")

    art = tether.Artifact("quick", artifacts_uri=f"az://{container}/store")
    art.add_remote(f"az://{container}/raw")
    art.add(local / "README")
    v1 = cat.log(art, aliases=["first"])
    readme = v1.asset("README")
    assert readme.uri.startswith(f"az://{container}/store/sha256/")
    assert readme.checksums["md5"] == hashlib.md5(b"toy dataset\n").hexdigest()  # uploads carry Content-MD5

    _put(blob_service, container, "raw/train.csv", b"x,y\n1,2\n3,4\n")
    art2 = tether.Artifact("quick", artifacts_uri=f"az://{container}/store")
    art2.add_remote(f"az://{container}/raw")
    art2.add(local / "README")
    v2 = cat.log(art2)
    assert v2.version == 2
    assert {o.logical_path: o.status for o in cat.get("quick@first").status().outcomes}["train.csv"] == "modified"

    # v2 restores verified; v1's train.csv was overwritten in place (no versions):
    # tether refuses to deliver other bytes under its name.
    assert v2.download(tmp_path / "v2").ok and v2.verify(tmp_path / "v2").ok
    assert (tmp_path / "v2" / "train.csv").read_bytes() == b"x,y\n1,2\n3,4\n"
    r1 = cat.get("quick", version=1).download(tmp_path / "v1", raise_on_error=False)
    assert {o.logical_path for o in r1.with_status("failed")} == {"train.csv"}
    assert (tmp_path / "v1" / "README").read_text() == "toy dataset\n"
    assert (tmp_path / "v1" / "labels" / "classes v1.txt").read_bytes() == b"cat\ndog\n"


def test_uploading_identical_bytes_keeps_the_blob_and_its_etag(container, tmp_path: Path) -> None:
    """Two uploads of one file (the same file added twice, racing) must not
    rewrite the blob: a new ETag would turn the first recorded pin into drift."""
    driver = tether.get_driver("az")
    f = tmp_path / "model.bin"
    f.write_bytes(b"weights" * 1000)
    uri = f"az://{container}/store/model.bin"
    first = driver.upload(str(f), uri, sha256=hashlib.sha256(f.read_bytes()).hexdigest())
    again = driver.upload(str(f), uri, sha256=hashlib.sha256(f.read_bytes()).hexdigest())
    assert again.checksums["etag"] == first.checksums["etag"]
    assert first.checksums["md5"] == hashlib.md5(f.read_bytes()).hexdigest()
    f.write_bytes(b"other" * 1000)
    changed = driver.upload(str(f), uri, sha256=hashlib.sha256(f.read_bytes()).hexdigest())
    assert changed.checksums["etag"] != first.checksums["etag"]
    assert driver.read_bytes(uri) == b"other" * 1000


@pytest.mark.parametrize("scheme", ["az", "abfs", "abfss"])
def test_without_the_driver_each_scheme_names_the_package(scheme, tmp_path: Path) -> None:
    env = {**os.environ, "TETHER_DISABLE_PLUGINS": "az", "TETHER_HOME": str(tmp_path)}
    tether_cli = Path(sys.executable).parent / "tether"
    r = subprocess.run([str(tether_cli), "log", "x", f"{scheme}://container/key"], capture_output=True,
                       text=True, env=env, check=False)
    # the package name, or the checkout folder when tether itself came from one
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "pip install tether-azure" in r.stderr or "/plugins/azure" in r.stderr
