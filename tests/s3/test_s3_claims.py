"""The version claim on S3 when the network loses the answer to it."""

from __future__ import annotations

import pytest

import tether

from ..faults import FaultProxy


def _is_claim_put(method: str, path: str, headers: dict[str, str]) -> bool:
    return method == "PUT" and headers.get("if-none-match") == "*" and "/versions/" in path


@pytest.fixture
def lossy(moto_server):
    """A proxy in front of moto that lets the first claim PUT through but drops its answer."""
    proxy = FaultProxy(moto_server.port, {"drop": 1.0}, is_object_read=_is_claim_put, max_faults=1)
    tether.configure("s3", endpoint_url=proxy.url, read_timeout=5, connect_timeout=2)
    yield proxy
    proxy.stop()


def test_a_lost_answer_to_the_claim_still_makes_one_version(s3_client, bucket, lossy) -> None:
    s3_client.put_object(Bucket=bucket, Key="data/a.bin", Body=b"payload")
    art = tether.Artifact("lossy")
    art.add_remote(f"s3://{bucket}/data/")
    cat = tether.Catalog(f"s3://{bucket}/cat")
    v = cat.log(art)
    assert lossy.injected["drop"] == 1  # the store took the claim; the client retried it
    assert [i.version for i in cat.versions("lossy")] == [1]
    assert v.version == 1
    # a second, genuinely different log still gets the next number
    s3_client.put_object(Bucket=bucket, Key="data/b.bin", Body=b"more")
    art2 = tether.Artifact("lossy")
    art2.add_remote(f"s3://{bucket}/data/")
    assert cat.log(art2).version == 2
