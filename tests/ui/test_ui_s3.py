"""``tether ui`` over a catalog on moto S3: the same pages, the same clicks, as on a local catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tether

from ..s3.conftest import moto_server, s3_client, versioned_bucket  # noqa: F401  (fixtures)
from .browser import Watched, chromium, tether_ui

pytestmark = [pytest.mark.ui, pytest.mark.browser, pytest.mark.s3]


def test_ui_on_a_catalog_on_s3(s3_client: Any, versioned_bucket: str, tmp_path: Path) -> None:  # noqa: F811
    bucket = versioned_bucket
    for key, body in {"data/train/a.bin": b"a" * 100, "data/train/b.bin": b"b" * 200, "data/val/c.bin": b"c"}.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    root = f"s3://{bucket}/catalog"
    cat = tether.Catalog(root)
    art = tether.Artifact("s3set", metadata={"bucket": bucket})
    art.add_remote(f"s3://{bucket}/data/")
    cat.log(art, aliases=["prod"])
    s3_client.put_object(Bucket=bucket, Key="data/train/b.bin", Body=b"B" * 250)
    s3_client.put_object(Bucket=bucket, Key="data/test/d.bin", Body=b"d" * 10)
    art = tether.Artifact("s3set", metadata={"bucket": bucket, "round": 2})
    art.add_remote(f"s3://{bucket}/data/")
    v2 = cat.log(art)
    vid = v2.asset("train/b.bin").version_id
    assert vid
    s3_client.put_object(Bucket=bucket, Key="data/val/c.bin", Body=b"changed since")  # drift for status

    with chromium() as browser, tether_ui(root) as url:
        w = Watched(browser)
        page = w.page
        page.goto(url)
        assert "s3set" in page.inner_text("table.list") and root in page.inner_text("header")
        page.click("text=s3set")
        page.click("a.ver >> text=v2")
        assert page.locator("table.assets tbody tr").count() == 4
        pinned = f"s3://{bucket}/data/train/b.bin?versionId={vid}"
        assert page.locator(f'button.copy[data-copy="{pinned}"]').count() == 1
        page.screenshot(path=str(tmp_path / "s3-version.png"), full_page=True)
        page.click("a.button >> text=Check remote now")
        text = page.inner_text("main")
        assert "The store no longer matches the manifest" in text and "val/c.bin" in text
        page.click("a.button >> text=Diff with v1")
        summary = page.locator("p.summary").inner_text()
        assert "1 added" in summary and "1 modified" in summary and "2 unchanged" in summary
        page.goto(url + "a/s3set/v/9")
        assert "404" in page.locator("h1").inner_text()
        page.goto(url + "api/a/s3set/v/prod")
        assert '"asset_count":3' in page.inner_text("body")
    assert not w.errors and not w.dialogs
