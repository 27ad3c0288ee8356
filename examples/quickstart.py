"""tether quickstart: the whole loop on an embedded catalog, in one run.

Makes a few local files, logs them as an artifact (v1), changes one, logs
again (v2), downloads version 1 and verifies it is exactly what was logged.

Where it writes:

    python examples/quickstart.py                   # a temporary catalog, removed at the end
    python examples/quickstart.py --catalog ./qs    # a catalog you keep (folder or URI)

By default the catalog is a temporary ``TETHER_HOME`` made for this run and
removed when it ends, so every run starts empty (v1 is always version 1) and
your real catalog is never touched: ``TETHER_HOME``, ``TETHER_CATALOG`` and
``TETHER_CACHE_DIR`` set in your shell are deliberately ignored, since a
profile that sets them points at real data. ``--catalog`` is the one way to
keep the result (then ``tether --catalog ./qs list`` shows it); in a catalog
that already holds ``quickstart-data`` a run logs the next two numbers and
downloads the first of them. The first line printed says which catalog is used.
"""

from __future__ import annotations

import argparse
import os
import shlex
import tempfile
from pathlib import Path

import tether

NAME = "quickstart-data"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", metavar="PATH_OR_URI",
                        help="keep the versions in this catalog instead of a temporary one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tether-quickstart-") as tmp:
        work = Path(tmp)
        if args.catalog is None:
            # The whole embedded setup (catalog, uploads, checksum cache) in this run's folder.
            os.environ["TETHER_HOME"] = str(work / "home")
            os.environ["TETHER_CACHE_DIR"] = str(work / "home" / "cache")
            catalog = tether.Catalog()
            print(f"catalog: {work / 'home'} (temporary, removed at the end; "
                  "--catalog PATH keeps one)")
        else:
            catalog = tether.Catalog(args.catalog)
            print(f"catalog: {catalog.root} (kept)")
        run(catalog, work)
    if args.catalog is None:
        print(f"removed {work}")
    else:
        print(f"see it with: tether --catalog {shlex.quote(args.catalog)} list {NAME}")


def run(catalog: tether.Catalog, work: Path) -> None:
    data = work / "data"
    (data / "labels").mkdir(parents=True)
    (data / "train.csv").write_text("x,y\n1,2\n3,4\n")
    (data / "labels" / "classes v1.txt").write_text("cat\ndog\n")
    (data / "README").write_text("toy dataset\n")

    art = tether.Artifact(NAME, type="dataset", metadata={"source": "quickstart"})
    art.add(data)  # uploaded into the catalog's artifact storage when logged
    v1 = catalog.log(art, aliases=["first"])
    print(f"logged {v1.ref}: {len(v1.assets)} files, {v1.total_size} bytes")

    (data / "train.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    art2 = tether.Artifact(NAME, type="dataset")
    art2.add(data)
    v2 = catalog.log(art2, aliases=["latest-run"])
    changed = [a.logical_path for a in v2.assets
               if a.checksums["sha256"] != v1.asset(a.logical_path).checksums["sha256"]]
    print(f"changed train.csv, logged {v2.ref}: changed files {changed}")

    dest = work / f"restored-{v1.ref.replace(':', '-')}"
    result = catalog.get(NAME, alias="first").download(dest)
    print(f"downloaded {v1.ref} to {dest}: {result.counts()}")
    check = v1.verify(dest)
    assert check.ok, check
    assert (dest / "train.csv").read_text() == "x,y\n1,2\n3,4\n"
    print(f"verified {v1.ref}: every file matches its recorded size and sha256")
    print("versions:", ", ".join(f"v{i.version} ({i.asset_count} files)" for i in catalog.versions(NAME)))


if __name__ == "__main__":
    main()
