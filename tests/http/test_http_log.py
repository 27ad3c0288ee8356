"""Logging http(s) URLs: what one HEAD records, digests, hashing on request, credentials."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.request
import warnings
from pathlib import Path

import pytest

import tether
from tether import Artifact, Catalog, get_driver
from tether.errors import AccessDeniedError, ConfigError, ObjectNotFoundError, StorageError

from .server import PASSWORD, SIGNATURE, USER, Behaviour, LoopbackServer

pytestmark = pytest.mark.http


def _catalog_text(root: Path) -> str:
    """Every byte the catalog wrote, as text: where a secret must not be."""
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_logging_costs_one_head_and_reads_no_bytes(http_server: LoopbackServer, base: str) -> None:
    data = os.urandom(50_000)
    http_server.put(f"{base}/a.bin", data)
    (asset,) = Artifact("a").add_remote(f"{base}/a.bin")
    assert [(r.method, r.path.rsplit("/", 1)[1]) for r in http_server.requests] == [("HEAD", "a.bin")]
    mtime = int(http_server.file_for(f"{base}/a.bin").stat().st_mtime)
    assert asset.size == len(data) and asset.synced
    assert asset.checksums == {"etag": hashlib.sha256(data).hexdigest()[:24]}  # the server's strong tag
    assert asset.last_modified == tether.driver.iso_time(mtime)
    assert asset.uri == f"{base}/a.bin" and asset.logical_path == "a.bin"


def test_requests_share_one_kept_alive_connection(http_server: LoopbackServer, base: str,
                                                  tmp_path: Path) -> None:
    for i in range(5):
        http_server.put(f"{base}/k{i}.txt", f"keep-alive {i}".encode())
    art = Artifact("k")
    for i in range(5):
        art.add_remote(f"{base}/k{i}.txt")
    v = Catalog(tmp_path / "cat").log(art)
    v.download(tmp_path / "out", workers=1)
    assert len(http_server.requests) == 10  # 5 HEAD, 5 GET: nothing retried
    assert len({r.port for r in http_server.requests}) == 1


def test_weak_etag_is_recorded_but_never_sent_as_if_match(http_server: LoopbackServer, base: str,
                                                          tmp_path: Path) -> None:
    http_server.behaviour = Behaviour(etag="weak")
    http_server.put(f"{base}/w.txt", b"weakly tagged")
    v = Catalog(tmp_path / "cat").log(_art("w", f"{base}/w.txt"))
    assert v.assets[0].checksums["etag"].startswith("W/")
    http_server.requests.clear()
    v.download(tmp_path / "out")
    (get,) = [r for r in http_server.requests if r.method == "GET"]
    assert "If-Match" not in get.headers and "If-Unmodified-Since" in get.headers
    assert (tmp_path / "out" / "w.txt").read_bytes() == b"weakly tagged"


@pytest.mark.parametrize(("header", "kinds"), [
    ("repr-digest", {"sha256", "sha512"}),
    ("digest", {"sha256", "md5"}),
    ("content-md5", {"md5"}),
    ("x-goog-hash", {"crc32c", "md5"}),
])
def test_server_digests_are_recorded_as_hex(http_server: LoopbackServer, base: str, header: str,
                                            kinds: set[str]) -> None:
    import google_crc32c

    data = os.urandom(10_000)
    http_server.behaviour = Behaviour(digests=(header,))
    http_server.put(f"{base}/d.bin", data)
    (asset,) = Artifact("d").add_remote(f"{base}/d.bin")
    expected = {k: (google_crc32c.Checksum(data).digest().hex() if k == "crc32c"
                    else hashlib.new(k, data).hexdigest()) for k in kinds}
    assert {k: v for k, v in asset.checksums.items() if k != "etag"} == expected
    assert http_server.count("GET") == 0  # from the HEAD's headers, no byte read


def test_malformed_digests_are_ignored_not_recorded(http_server: LoopbackServer, base: str) -> None:
    http_server.put(f"{base}/m.bin", b"data")
    path = f"/{base.rsplit('/', 1)[1]}/m.bin"
    http_server.behaviour = Behaviour(extra_headers={path: {
        "Repr-Digest": "sha-256=:bm90IGEgZGlnZXN0:, unknown=:AAAA:", "Content-MD5": "nonsense!",
        "Digest": "SHA-256=tooshort", "Content-Digest": f"sha-256=:{base64.b64encode(b'x' * 32).decode()}:"}})
    (asset,) = Artifact("m").add_remote(f"{base}/m.bin")
    assert set(asset.checksums) == {"etag"}


def test_hash_option_reads_each_object_once(http_server: LoopbackServer, base: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    http_server.put(f"{base}/h.bin", data)
    tether.configure("http", hash=True)
    (asset,) = Artifact("h").add_remote(f"{base}/h.bin")
    assert asset.checksums["sha256"] == hashlib.sha256(data).hexdigest()
    assert (http_server.count("HEAD"), http_server.count("GET")) == (1, 1)
    (get,) = [r for r in http_server.requests if r.method == "GET"]
    assert get.headers["If-Match"] == f'"{asset.checksums["etag"]}"'  # the hash is of the bytes HEAD saw
    # the environment variable does the same; configure() of the other scheme does not
    tether.config.reset()
    tether.configure("https", hash=True)
    (plain,) = Artifact("h2").add_remote(f"{base}/h.bin")
    assert "sha256" not in plain.checksums
    monkeypatch.setenv("TETHER_HTTP_HASH", "1")
    (env,) = Artifact("h3").add_remote(f"{base}/h.bin")
    assert env.checksums["sha256"] == hashlib.sha256(data).hexdigest()


def test_hash_is_not_read_again_when_the_server_sends_sha256(http_server: LoopbackServer, base: str) -> None:
    http_server.behaviour = Behaviour(digests=("repr-digest",))
    http_server.put(f"{base}/r.bin", b"digested")
    tether.configure("http", hash=True)
    (asset,) = Artifact("r").add_remote(f"{base}/r.bin")
    assert asset.checksums["sha256"] == hashlib.sha256(b"digested").hexdigest()
    assert http_server.count("GET") == 0


def test_a_server_that_reports_no_size_is_read_once(http_server: LoopbackServer, base: str,
                                                     tmp_path: Path) -> None:
    data = os.urandom(200_000)
    http_server.behaviour = Behaviour(sizes=False)
    http_server.put(f"{base}/chunked.bin", data)
    v = Catalog(tmp_path / "cat").log(_art("c", f"{base}/chunked.bin"))
    assert v.assets[0].size == len(data)
    assert v.assets[0].checksums["sha256"] == hashlib.sha256(data).hexdigest()
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "chunked.bin").read_bytes() == data


def test_a_server_refusing_head_is_asked_for_one_byte(http_server: LoopbackServer, base: str) -> None:
    http_server.behaviour = Behaviour(head=False, digests=("content-md5",))
    http_server.put(f"{base}/nohead.bin", b"0123456789")
    (asset,) = Artifact("n").add_remote(f"{base}/nohead.bin")
    assert asset.size == 10 and "etag" in asset.checksums
    assert "md5" not in asset.checksums  # Content-MD5 of a 206 describes the part, not the object
    (get,) = [r for r in http_server.requests if r.method == "GET"]
    assert get.headers["Range"] == "bytes=0-0"


def test_redirects_are_followed_and_the_given_url_recorded(http_server: LoopbackServer, base: str,
                                                           tmp_path: Path) -> None:
    folder = base.rsplit("/", 1)[1]
    http_server.put(f"{base}/target.txt", b"moved")
    url = f"{http_server.url}/redirect/{folder}/target.txt"
    v = Catalog(tmp_path / "cat").log(_art("r", url))
    assert v.assets[0].uri == url and v.assets[0].size == 5
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "target.txt").read_bytes() == b"moved"


def test_transient_errors_at_log_time_are_retried(http_server: LoopbackServer, base: str) -> None:
    http_server.put(f"{base}/t.txt", b"flaky")
    path = f"/{base.rsplit('/', 1)[1]}/t.txt"
    http_server.behaviour = Behaviour(fail={path: [503, 502]})
    tether.configure("http", max_attempts=3)
    (asset,) = Artifact("t").add_remote(f"{base}/t.txt")
    assert asset.size == 5 and http_server.count("HEAD") == 3
    http_server.behaviour = Behaviour(fail={path: [503, 503, 503]})
    with pytest.raises(StorageError, match="HTTP 503"):
        Artifact("t").add_remote(f"{base}/t.txt")


def test_access_denied_is_link_only_with_a_warning_and_strict_raises(http_server: LoopbackServer,
                                                                     base: str) -> None:
    http_server.put(f"{base}/p.txt", b"private")
    url = f"{http_server.url}/private/{base.rsplit('/', 1)[1]}/p.txt"
    with pytest.warns(tether.LinkOnlyWarning, match="access denied"):
        (asset,) = Artifact("p").add_remote(url)
    assert not asset.synced and asset.link == url
    with pytest.raises(AccessDeniedError, match="HTTP 401"):
        Artifact("p", strict=True).add_remote(url)


def test_a_plain_query_string_is_kept_as_given(http_server: LoopbackServer, base: str, tmp_path: Path) -> None:
    http_server.put(f"{base}/download", b"dynamic")
    url = f"{base}/download?name=a%20b&version=2&empty="
    v = Catalog(tmp_path / "cat").log(_art("q", url))
    (asset,) = v.assets
    assert asset.synced and asset.uri == url and asset.logical_path == "download"
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "download").read_bytes() == b"dynamic"
    (get,) = [r for r in http_server.requests if r.method == "GET"]
    assert get.path.endswith("/download?name=a%20b&version=2&empty=")


def test_missing_url_names_it_and_says_http_cannot_list(http_server: LoopbackServer, base: str) -> None:
    with pytest.raises(ObjectNotFoundError, match="absent.csv.*one file"):
        Artifact("m").add_remote(f"{base}/absent.csv")


# --------------------------------------------------------------------- credentials
def test_signed_url_is_link_only_by_default_and_no_signature_is_kept(http_server: LoopbackServer, base: str,
                                                                     tmp_path: Path) -> None:
    http_server.put(f"{base}/s.csv", b"signed content")
    url = f"{http_server.url}/signed/{base.rsplit('/', 1)[1]}/s.csv?X-Amz-Signature={SIGNATURE}&X-Amz-Expires=60"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        art = Artifact("s")
        (asset,) = art.add_remote(url)
    (warning,) = [w for w in caught if issubclass(w.category, tether.LinkOnlyWarning)]
    assert "credentials" in str(warning.message) and "signed_urls='record'" in str(warning.message)
    assert SIGNATURE not in str(warning.message)
    assert not asset.synced and SIGNATURE not in asset.link
    assert http_server.requests == []  # nothing fetched that could never be fetched again
    Catalog(tmp_path / "cat").log(art)
    assert SIGNATURE not in _catalog_text(tmp_path / "cat")
    with pytest.raises(AccessDeniedError, match="credentials") as exc:
        Artifact("s", strict=True).add_remote(url)
    assert SIGNATURE not in str(exc.value)


def test_signed_url_recorded_on_request_without_its_signature(http_server: LoopbackServer, base: str,
                                                              tmp_path: Path) -> None:
    data = os.urandom(40_000)
    http_server.put(f"{base}/s.bin", data)
    clean = f"{http_server.url}/signed/{base.rsplit('/', 1)[1]}/s.bin"
    url = f"{clean}?X-Amz-Signature={SIGNATURE}&X-Amz-Credential=AKIDEXAMPLE"
    tether.configure("http", signed_urls="record", hash=True)
    cat = Catalog(tmp_path / "cat")
    v = cat.log(_art("s", url))
    (asset,) = v.assets
    assert asset.uri == clean and asset.size == len(data)
    assert asset.checksums["sha256"] == hashlib.sha256(data).hexdigest()  # hashed with the signature, once
    assert SIGNATURE not in _catalog_text(tmp_path / "cat") and "AKIDEXAMPLE" not in _catalog_text(tmp_path / "cat")
    # without the signature the server refuses; the error says why, and what to do
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "signature was not recorded" in (failed.error or "") and "tether verify" in (failed.error or "")
    assert SIGNATURE not in (failed.error or "")
    # fetched with a fresh signed URL by any tool, the copy is checked against what was recorded
    (tmp_path / "mine").mkdir()
    with urllib.request.urlopen(url) as r:
        (tmp_path / "mine" / "s.bin").write_bytes(r.read())
    assert v.verify(tmp_path / "mine").ok


def test_password_in_url_is_used_once_on_request_and_never_recorded(http_server: LoopbackServer, base: str,
                                                                    tmp_path: Path) -> None:
    http_server.put(f"{base}/u.txt", b"behind basic auth")
    host = http_server.url.split("://", 1)[1]
    url = f"http://{USER}:{PASSWORD}@{host}/private/{base.rsplit('/', 1)[1]}/u.txt"
    with pytest.warns(tether.LinkOnlyWarning, match="credentials"):
        (link,) = Artifact("u").add_remote(url)
    assert PASSWORD not in link.link and not link.synced
    tether.configure("http", signed_urls="record")
    v = Catalog(tmp_path / "cat").log(_art("u", url))
    assert v.assets[0].uri == f"http://***@{host}/private/{base.rsplit('/', 1)[1]}/u.txt"
    assert PASSWORD not in _catalog_text(tmp_path / "cat")
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "user:password it was logged with was not recorded" in (failed.error or "")
    auths = [r.headers.get("Authorization") for r in http_server.requests if r.method == "GET"]
    assert auths == [None], "a download must not send the redacted '***' as credentials"


def test_errors_about_signed_urls_carry_no_signature(http_server: LoopbackServer, base: str) -> None:
    tether.configure("http", signed_urls="record")
    folder = base.rsplit("/", 1)[1]
    with pytest.raises(ObjectNotFoundError) as missing:
        Artifact("x").add_remote(f"{http_server.url}/signed/{folder}/absent?X-Amz-Signature={SIGNATURE}")
    from ..servers import free_port

    with pytest.raises(StorageError) as refused:
        Artifact("x").add_remote(f"http://127.0.0.1:{free_port()}/f?X-Amz-Signature={SIGNATURE}")
    for exc in (missing.value, refused.value):
        assert SIGNATURE not in str(exc), str(exc)  # the parameter may be named, its value never


def test_options_are_validated_naming_the_nearest(http_server: LoopbackServer, base: str) -> None:
    http_server.put(f"{base}/o.txt", b"o")
    tether.configure("http", hsah=True)
    with pytest.raises(ConfigError, match="'hsah'.*did you mean 'hash'"):
        Artifact("o").add_remote(f"{base}/o.txt")
    tether.config.reset()
    tether.configure("http", signed_urls="sometimes")
    with pytest.raises(ConfigError, match="signed_urls"):
        Artifact("o").add_remote(f"{base}/o.txt")
    tether.config.reset()
    tether.configure("http", max_attempts="many")
    with pytest.raises(ConfigError, match="max_attempts"):
        get_driver("http").resolve(f"{base}/o.txt")


def test_manifest_rows_are_plain_json(http_server: LoopbackServer, base: str, tmp_path: Path) -> None:
    http_server.behaviour = Behaviour(digests=("digest",))
    http_server.put(f"{base}/j.txt", b"json")
    Catalog(tmp_path / "cat").log(_art("j", f"{base}/j.txt"))
    (manifest,) = (tmp_path / "cat").rglob("manifests/*.json")
    (row,) = json.loads(manifest.read_text())["assets"]
    assert row["uri"] == f"{base}/j.txt" and row["size"] == 4
    assert set(row["checksums"]) == {"etag", "sha256", "md5"} and row["last_modified"].endswith("Z")


def _art(name: str, uri: str) -> Artifact:
    art = Artifact(name)
    art.add_remote(uri)
    return art


def test_https_verifies_certificates_and_records_https(https_server: LoopbackServer, https_base: str) -> None:
    import urllib3

    https_server.put(f"{https_base}/tls.txt", b"secure")
    (asset,) = Artifact("tls").add_remote(f"{https_base}/tls.txt")  # the fixture trusts the test CA
    assert asset.uri == f"{https_base}/tls.txt" and asset.uri.startswith("https://")
    tether.config.reset()  # the machine's CAs do not know the test CA
    with pytest.raises(StorageError, match="TLS failed.*'verify'"):
        Artifact("tls").add_remote(f"{https_base}/tls.txt")
    tether.configure("https", verify=False)
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
        (unverified,) = Artifact("tls").add_remote(f"{https_base}/tls.txt")
    assert unverified.size == 6
