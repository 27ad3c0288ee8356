"""tether quickstart: the whole loop on the embedded catalog, in one run.

Makes a few local files, logs them as an artifact, changes one, logs again,
downloads version 1 and verifies it is exactly what was logged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import tether


def main() -> None:
    catalog = tether.Catalog()  # embedded default: $TETHER_HOME or the per-user data folder
    print(f"catalog: {catalog.root}")
    with tempfile.TemporaryDirectory(prefix="tether-quickstart-") as tmp:
        work = Path(tmp)
        data = work / "data"
        (data / "labels").mkdir(parents=True)
        (data / "train.csv").write_text("x,y\n1,2\n3,4\n")
        (data / "labels" / "classes v1.txt").write_text("cat\ndog\n")
        (data / "README").write_text("toy dataset\n")

        art = tether.Artifact("quickstart-data", type="dataset", metadata={"source": "quickstart"})
        art.add(data)  # uploaded into the catalog's artifact storage when logged
        v1 = catalog.log(art, aliases=["first"])
        print(f"logged {v1.ref}: {len(v1.assets)} files, {v1.total_size} bytes")

        (data / "train.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
        art2 = tether.Artifact("quickstart-data", type="dataset")
        art2.add(data)
        v2 = catalog.log(art2, aliases=["latest-run"])
        changed = [a.logical_path for a in v2.assets
                   if a.checksums["sha256"] != v1.asset(a.logical_path).checksums["sha256"]]
        print(f"changed train.csv, logged {v2.ref}: changed files {changed}")

        dest = work / f"restored-{v1.ref.replace(':', '-')}"
        result = catalog.get("quickstart-data", alias="first").download(dest)
        print(f"downloaded {v1.ref} to {dest}: {result.counts()}")
        check = v1.verify(dest)
        assert check.ok, check
        assert (dest / "train.csv").read_text() == "x,y\n1,2\n3,4\n"
        print(f"verified {v1.ref}: every file matches its recorded size and sha256")
        print("versions:", ", ".join(f"v{i.version} ({i.asset_count} files)"
                                     for i in catalog.versions("quickstart-data")))


if __name__ == "__main__":
    main()
