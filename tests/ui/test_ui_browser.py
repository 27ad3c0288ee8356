"""``tether ui`` end to end: a real server process, headless Chromium, clicks and screenshots.

Timings are measured and printed (``-s`` shows them), never asserted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .browser import Watched, chromium, tether_ui
from .catalogs import XSS_FLAG

pytestmark = [pytest.mark.ui, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser() -> Any:
    with chromium() as b:
        yield b


def test_click_through_artifacts_artifact_version_diff(browser: Any, ui_catalog: str, tmp_path: Path) -> None:
    w = Watched(browser)
    page = w.page
    with tether_ui(ui_catalog) as url:
        page.goto(url)
        assert page.locator("h1").inner_text() == "Artifacts"
        page.screenshot(path=str(tmp_path / "artifacts.png"))
        page.click("text=images")
        assert page.locator("h1").inner_text().startswith("images")
        page.screenshot(path=str(tmp_path / "artifact.png"))
        page.click("a.ver >> text=v3")
        assert page.locator("h1").inner_text().startswith("images:v3")
        assert page.locator("table.assets tbody tr").count() == 6
        page.screenshot(path=str(tmp_path / "version.png"), full_page=True)
        page.click("text=Folders")
        page.click("table.list >> text=train/")
        assert page.locator("h2.crumbs").inner_text() == "/ train /"
        assert page.locator("table.list >> text=cat/").count() == 1
        page.go_back()
        page.go_back()
        page.click("a.button >> text=Check remote now")
        assert "The store matches the manifest" in page.inner_text("main")
        page.goto(url + "a/images")
        page.check('input[name="a"][value="images:1"]')
        page.check('input[name="b"][value="images:3"]')
        page.click("text=Compare A → B")
        summary = page.locator("p.summary").inner_text()
        assert "2 added" in summary and "1 removed" in summary and "1 renamed" in summary
        assert "val/0001.jpg → val/0001-renamed.jpg" in page.inner_text("main")
        page.screenshot(path=str(tmp_path / "diff.png"), full_page=True)
    assert not w.errors and not w.dialogs, (w.errors, w.dialogs)
    assert not [c for c in w.console if c.startswith("error")], w.console
    for shot in ("artifacts", "artifact", "version", "diff"):
        assert (tmp_path / f"{shot}.png").stat().st_size > 10_000


def test_copy_button_copies_the_download_command(browser: Any, ui_catalog: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    with tether_ui(ui_catalog) as url:
        page.goto(url + "a/labels/v/1")
        page.click("button.copy >> nth=0")
        page.wait_for_function("document.querySelector('button.copy').textContent === 'copied'")
        copied = page.evaluate("navigator.clipboard.readText()")
    context.close()
    assert copied.startswith("tether --catalog file://") and copied.endswith("download labels:v1 DEST")


def test_hostile_catalog_executes_nothing(browser: Any, ui_catalog: str, tmp_path: Path) -> None:
    w = Watched(browser)
    page = w.page
    with tether_ui(ui_catalog) as url:
        for path in ("", "a/hostile", "a/hostile/v/1", "a/hostile/v/1/folders", "a/hostile/v/1/status",
                     "diff?a=hostile:1&b=images:1"):
            page.goto(url + path)
            for el in page.locator("main td, main th, main a, main span, main code").all()[:200]:
                el.hover(timeout=2000, force=True)  # any onmouseover that slipped through would fire now
            links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            assert all(h.startswith(("/", "http://", "https://")) for h in links), links
            assert page.evaluate(f"window.{XSS_FLAG}") is None, path
        page.goto(url + "a/hostile/v/1")
        page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        assert "javascript:window." + XSS_FLAG in page.inner_text("main")  # shown, as text
    assert w.dialogs == [] and w.errors == []


def test_first_page_of_a_100000_asset_version(browser: Any, huge_catalog: str, tmp_path: Path,
                                              record_property: Any) -> None:
    w = Watched(browser)
    page = w.page
    with tether_ui(huge_catalog) as url:
        page.goto(url + "a/huge")  # warm the server process (imports), not the version
        start = time.perf_counter()
        page.goto(url + "a/huge/v/1")
        seconds = time.perf_counter() - start
        rows = page.locator("table.assets tbody tr")
        assert rows.count() == 100
        assert rows.first.locator("td.path").inner_text() == "shard-000/part-0000000.bin"
        nxt = page.locator("a.next")
        assert "after=shard-000%2Fpart-0000099.bin" in nxt.get_attribute("href")
        start = time.perf_counter()
        nxt.click()
        page.wait_for_load_state()
        second = time.perf_counter() - start
        assert page.locator("table.assets tbody tr").first.locator("td.path").inner_text() == \
            "shard-000/part-0000100.bin"
        page.screenshot(path=str(tmp_path / "huge.png"))
    record_property("first_page_seconds", round(seconds, 3))
    record_property("second_page_seconds", round(second, 3))
    print(f"\n100,000-asset version: first page {seconds:.2f} s, next page {second:.2f} s")
    (tmp_path / "timing.json").write_text(json.dumps({"first_page_s": seconds, "next_page_s": second}))
