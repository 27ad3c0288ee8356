"""The version claim on GCS when the network loses the answer to it."""

from __future__ import annotations

import tether

from ..faults import FaultProxy


def _is_create_upload(method: str, path: str, headers: dict[str, str]) -> bool:
    return method == "POST" and path.startswith("/upload/") and "ifGenerationMatch=0" in path


def test_a_lost_answer_to_the_claim_still_makes_one_version(gcs_server, gcs_admin, gcs_bucket) -> None:
    gcs_admin.put(gcs_bucket, "data/a.bin", b"payload")
    # The claim is a create-if-absent upload of artifacts/<name>/versions/<n>.json
    # (named in the request body): it reaches the store, its answer does not.
    proxy = FaultProxy(gcs_server.port, {"drop": 1.0}, is_object_read=_is_create_upload, max_faults=1,
                       body_contains=b"/versions/")
    try:
        tether.configure("gs", endpoint_url=proxy.url)
        art = tether.Artifact("lossy")
        art.add_remote(f"gs://{gcs_bucket}/data/")
        cat = tether.Catalog(f"gs://{gcs_bucket}/cat")
        v = cat.log(art)
        assert proxy.injected["drop"] == 1  # the store took the claim; the client retried it
        assert [i.version for i in cat.versions("lossy")] == [1]
        assert v.version == 1
        gcs_admin.put(gcs_bucket, "data/b.bin", b"more")
        art2 = tether.Artifact("lossy")
        art2.add_remote(f"gs://{gcs_bucket}/data/")
        assert cat.log(art2).version == 2
    finally:
        proxy.stop()
