"""Listing large S3 prefixes: sub-folders listed concurrently, pages parsed by
tether, and the same objects in the same order as one boto3 paginator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import tether
from tether import errors
from tether.driver import iso_time
from tether.plugins import get_driver
from tether.progress import ProgressEvent
from tether_s3 import listing


def put_many(s3_client, bucket: str, keys: list[str], body: bytes = b"x") -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3_client.put_object(Bucket=bucket, Key=k, Body=body + k.encode()), keys))


def paginated(s3_client, bucket: str, prefix: str, versioned: bool) -> list[tuple]:
    """What one boto3 paginator lists: (key, size, etag, version id, last modified), latest only."""
    op, rows = ("list_object_versions", "Versions") if versioned else ("list_objects_v2", "Contents")
    out = []
    for page in s3_client.get_paginator(op).paginate(Bucket=bucket, Prefix=prefix):
        for r in page.get(rows, []):
            if (r.get("IsLatest") or not versioned) and not r["Key"].endswith("/"):
                out.append((r["Key"], r["Size"], r["ETag"].strip('"'), r.get("VersionId") if versioned else None,
                            iso_time(r["LastModified"])))
    return out


def listed(bucket: str, prefix: str) -> list[tuple]:
    objs = get_driver("s3").list(f"s3://{bucket}/{prefix}", max_objects=100_000)
    return [(o.path.split("/", 1)[1], o.size, o.checksums["etag"], o.version_id, o.last_modified) for o in objs]


# Keys S3 lists URL-encoded (spaces, +, %, &, <, non-ASCII), a folder marker, direct keys
# beside sub-folders, and sub-folders deep enough to be explored.
ODD = ["data/a b+c%d&e<f>.bin", "data/é/ü ñ.txt", "data/marker/", "data/direct-1", "data/zz/deep/er/x",
       "data/p0003/sub/1", "data/p0003x"]


@pytest.fixture
def tree_keys() -> list[str]:
    return [f"data/p{p:04d}/{i:03d}.bin" for p in range(40) for i in range(30)] + ODD


@pytest.mark.parametrize("page", [1000, 25, 7])  # small pages make the small tree wide: every path runs
@pytest.mark.parametrize("versioned", [False, True])
def test_a_tree_lists_the_same_objects_in_the_same_order_as_one_paginator(s3_client, bucket, versioned_bucket,
                                                                          versioned, page, tree_keys,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr(listing, "PAGE", page)
    b = versioned_bucket if versioned else bucket
    put_many(s3_client, b, tree_keys + ["other/x", "data2/y"])
    if versioned:  # an overwritten key (an older version) and a deleted one (a delete marker)
        s3_client.put_object(Bucket=b, Key="data/p0001/000.bin", Body=b"second")
        s3_client.delete_object(Bucket=b, Key="data/p0002/000.bin")
    want = paginated(s3_client, b, "data/", versioned)
    assert len(want) == len(tree_keys) - 1 - versioned  # the folder marker (and the deleted key) left out
    assert listed(b, "data/") == want
    assert listed(b, "data/p0003") == paginated(s3_client, b, "data/p0003", versioned)  # no / boundary here


def test_small_sub_folders_are_listed_in_ranges_not_one_request_each(s3_client, bucket, moto_server) -> None:
    keys = [f"data/f{i:05d}/x" for i in range(2500)] + ["data/top"]
    put_many(s3_client, bucket, keys)
    before = moto_server.log_text().count(f"GET /{bucket}?")
    assert listed(bucket, "data/") == paginated(s3_client, bucket, "data/", False)
    requests = moto_server.log_text().count(f"GET /{bucket}?") - before
    assert requests <= 3 + 3 + 2 * 3, f"{requests} requests for 3 pages of keys in 2,500 folders"


class InFlight:
    """A loopback proxy in front of moto that delays each request, counting how many overlap."""

    def __init__(self, upstream_port: int, delay: float = 0.05) -> None:
        from bench.latency_proxy import Proxy

        self.proxy = Proxy(upstream_port, delay)
        self.thread = threading.Thread(target=self.proxy.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.proxy.port}"

    def stop(self) -> None:
        self.proxy.server.shutdown()
        self.proxy.server.server_close()


def test_sub_folders_are_listed_concurrently_and_bounded(s3_client, bucket, moto_server, tree_keys,
                                                        monkeypatch) -> None:
    monkeypatch.setattr(listing, "PAGE", 10)  # 40 folders of 3 pages: as wide as 40 folders of 3,000 keys
    put_many(s3_client, bucket, tree_keys)
    proxy = InFlight(moto_server.port)
    try:
        tether.configure("s3", endpoint_url=proxy.url)
        assets = tether.Artifact("tree").add_remote(f"s3://{bucket}/data/", max_objects=5000)
    finally:
        proxy.stop()
    assert sorted(a.logical_path for a in assets) == sorted(k[5:] for k in tree_keys if not k.endswith("/"))
    assert 8 <= proxy.proxy.counts["max_in_flight"] <= listing.CONCURRENCY + 2  # + the bucket facts asked beside


def test_max_objects_stops_the_listing_and_says_how_to_raise_it(s3_client, bucket, tree_keys) -> None:
    put_many(s3_client, bucket, tree_keys)
    with pytest.raises(errors.TooManyObjectsError) as info:
        tether.Artifact("cap").add_remote(f"s3://{bucket}/data/", max_objects=100)
    msg = str(info.value)
    assert "more than max_objects=100" in msg and "default is 10000" in msg
    assert "max_objects=N" in msg and "--max-objects N" in msg


@pytest.mark.parametrize("versioned", [False, True])
def test_a_large_prefix_reports_objects_found_while_it_is_listed(s3_client, bucket, versioned_bucket, versioned,
                                                                  tree_keys, monkeypatch) -> None:
    """The concurrent lister reports ``listing`` progress page by page (what the CLI
    draws as "N objects found"), not once at the end, and ends at the count logged."""
    monkeypatch.setattr(listing, "PAGE", 25)  # 1,206 keys: about fifty pages
    b = versioned_bucket if versioned else bucket
    put_many(s3_client, b, tree_keys)
    seen: list[ProgressEvent] = []
    assets = tether.Artifact("progress").add_remote(f"s3://{b}/data/", progress=seen.append)
    found = [e.done for e in seen if e.stage == "listing"]
    assert {e.unit for e in seen if e.stage == "listing"} == {"objects"}
    assert found == sorted(found) and found[-1] == len(assets) == len(tree_keys) - 1  # the folder marker
    assert len(found) >= 10 and found[0] < len(assets)  # reported before the listing ended


def _body(items: str, top: str = "<IsTruncated>false</IsTruncated>") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
            f'2006-03-01/"><Name>b</Name>{top}{items}</ListBucketResult>').encode()


@pytest.mark.parametrize("body", [
    _body('<Contents><Key>a%20b%2Bc%26d%3C.bin</Key><LastModified>2026-11-25T10:00:00.123Z</LastModified>'
          '<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><ChecksumAlgorithm>CRC64NVME'
          '</ChecksumAlgorithm><Size>7</Size><Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass>'
          '</Contents><CommonPrefixes><Prefix>d%C3%A9/</Prefix></CommonPrefixes>',
          "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
          "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"),
    _body("<Contents>\n  <Key>plain &amp; &lt;escaped&gt; \u00e9</Key>\n  <Size>0</Size>\n"
          "  <ETag>\"abc-2\"</ETag>\n</Contents>\n<CommonPrefixes>\n  <Prefix>x/</Prefix>\n</CommonPrefixes>"),
])
def test_pages_read_by_tether_match_elementtree(body: bytes) -> None:
    fast, tree = listing._parse_flat(body, "ListObjectsV2"), listing._parse_tree(body, "ListObjectsV2")
    assert (fast.rows, fast.prefixes, fast.truncated, fast.next) == (tree.rows, tree.prefixes, tree.truncated,
                                                                     tree.next)
    assert fast.rows[0][0] in ("a b+c&d<.bin", "plain & <escaped> \u00e9")


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>x</Message></Error>',
    _body("<Contents><Key>a</Key><Size>1</Size></Contents>")[:-30],  # cut short
])
def test_an_error_in_a_200_or_a_cut_page_is_retried_not_read(s3_client, body: bytes) -> None:
    # What botocore's own 200-error check does (which the hook replaces for tether's pages): a 500, retried.
    model = s3_client.meta.service_model.operation_model("ListObjectsV2")
    response = {"status_code": 200, "body": body, "headers": {}}
    custom: dict = {}
    token = listing._RAW.set(True)
    try:
        listing._hook(operation_model=model, response_dict=response, customized_response_dict=custom)
    finally:
        listing._RAW.reset(token)
    assert response["status_code"] == 500 and "TetherPage" not in custom
