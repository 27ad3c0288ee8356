"""Catalogs the UI tests look at: a small real one, a hostile one, a 100,000-asset one.

Each builder logs into the catalog at ``root`` (a folder or an s3:// prefix)
through the public API; run as a script it builds them into a folder, so
``tether ui`` can be started on it from a subprocess.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import tether
from tether.models import Asset

#: What a script in the page would set; the browser test asserts it stays unset.
XSS_FLAG = "__tether_xss"
SCRIPT = f"<script>window.{XSS_FLAG}=1</script>"
ATTR = f'"onmouseover="window.{XSS_FLAG}=2" x="'
JS_LINK = f"javascript:window.{XSS_FLAG}=3"
IMG = f"<img src=x onerror=window.{XSS_FLAG}=4>"


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def demo(root: str, work: Path) -> None:
    """``images``: three versions with a rename, a change, additions and a removal;
    ``labels``: one version. Aliases, tags and metadata on both."""
    cat = tether.Catalog(root)
    src = write_files(work / "images", {
        "train/cat/0001.jpg": b"cat one" * 100, "train/cat/0002.jpg": b"cat two" * 120,
        "train/dog/0001.jpg": b"dog one" * 90, "val/0001.jpg": b"val one" * 50, "README.md": b"# images\n"})
    art = tether.Artifact("images", type="dataset", metadata={"source": "https://example.com/images",
                                                             "split": {"train": 3, "val": 1}})
    art.add_remote(str(src))
    cat.log(art, tags=["raw"])
    write_files(src, {"train/cat/0002.jpg": b"cat two, cropped" * 100, "train/dog/0002.jpg": b"dog two" * 80})
    os.rename(src / "val/0001.jpg", src / "val/0001-renamed.jpg")
    art = tether.Artifact("images", type="dataset", metadata={"source": "https://example.com/images",
                                                             "split": {"train": 4, "val": 1}, "cleaned": True})
    art.add_remote(str(src))
    cat.log(art, aliases=["candidate"], tags=["cleaned"])
    os.remove(src / "README.md")
    write_files(src, {"test/0001.jpg": b"test one" * 70})
    art = tether.Artifact("images", type="dataset", metadata={"source": "https://example.com/images",
                                                             "split": {"train": 4, "val": 1, "test": 1}})
    art.add_remote(str(src))
    cat.log(art, aliases=["production"], tags=["nightly"])
    labels = write_files(work / "labels", {"labels.csv": b"path,label\ncat/0001.jpg,cat\n"})
    art = tether.Artifact("labels", type="table", metadata={"owner": "data-team"})
    art.add_remote(str(labels))
    cat.log(art, aliases=["production"])


def hostile(root: str, work: Path) -> None:
    """``hostile``: names, metadata and links built to run script if anything is not escaped."""
    cat = tether.Catalog(root)
    src = write_files(work / "hostile", {
        f"{SCRIPT}.txt": b"one", f"{ATTR}.bin": b"two", f"{IMG}/x.txt": b"three"})
    art = tether.Artifact("hostile", type=SCRIPT, metadata={
        SCRIPT: ATTR, "link": JS_LINK, "img": IMG, "data": "data:text/html,<script>alert(1)</script>",
        "spaced": " javascript:alert(1)", "nested": {"k": SCRIPT}})
    art.add_remote(str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # link-only: tether says so, on purpose here
        art.add_remote(JS_LINK, logical_path=f"links/{SCRIPT}")
    cat.log(art, aliases=["x"], tags=["t"])


def big(root: str, n: int = 100_000, name: str = "huge") -> None:
    """``huge``: two versions of ``n`` assets, as an S3 listing would record them (no objects behind)."""
    cat = tether.Catalog(root)
    for version in (1, 2):
        art = tether.Artifact(name, type="dataset")
        for i in range(n):
            if version == 2 and i % 10 == 0:
                continue  # 10% removed ...
            uri = f"s3://bench-bucket/shard-{i // 1000:03d}/part-{i:07d}.bin"
            changed = version if i % 7 == 0 else 1  # ... and 1 in 7 changed
            etag = f"{i * 7919 + changed:032x}"
            path = uri[len("s3://bench-bucket/"):]
            art._assets[path] = Asset(logical_path=path, link=uri, uri=uri, size=1000 + i,
                                      checksums={"etag": etag, "md5": etag}, version_id=f"v{i}-{changed}",
                                      source="s3://bench-bucket/")
        if version == 2:
            for i in range(n // 100):  # ... and some new
                path = f"extra/new-{i:05d}.bin"
                uri = "s3://bench-bucket/" + path
                art._assets[path] = Asset(logical_path=path, link=uri, uri=uri, size=5,
                                          checksums={"etag": f"{i:032x}"}, source="s3://bench-bucket/")
        cat.log(art)


if __name__ == "__main__":  # python catalogs.py ROOT WORK [demo,hostile,big]
    root, work = sys.argv[1], Path(sys.argv[2])
    for which in (sys.argv[3] if len(sys.argv) > 3 else "demo,hostile").split(","):
        if which == "big":
            big(root)
        else:
            globals()[which](root, work)
