"""An offline wheelhouse made from the distributions installed in this test environment.

The packaging tests install tether into fresh virtual environments with
``pip install --no-index --find-links <wheelhouse>``, so they need every
third-party dependency as a wheel without asking an index (slow, and its
answers change from day to day). The test environment already holds exactly
those distributions, at versions known to work together: each one is packed
back into a wheel from the files its ``RECORD`` lists, the way ``pip`` itself
unpacked it. Only the requirement closure of what the tests ask for is packed,
so a fresh environment gets what the packages declare and nothing else, and an
undeclared dependency still fails there.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import re
import sysconfig
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_SKIPPED_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def installed() -> dict[str, md.Distribution]:
    """This environment's distributions by canonical name (its site-packages only)."""
    paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    return {canonicalize_name(d.metadata["Name"]): d for d in md.distributions(path=paths)}


def closure(requirements: Iterable[str], *, skip: Callable[[str], bool] = lambda name: False
            ) -> list[md.Distribution]:
    """The installed distributions that ``requirements`` need, transitively, markers evaluated."""
    have = installed()
    todo = [Requirement(r) for r in requirements]
    seen: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if skip(name):
            continue
        dist = have.get(name)
        if dist is None or not req.specifier.contains(dist.version, prereleases=True):
            raise LookupError(f"{req} is needed but the test environment has "
                              f"{dist.version if dist else 'no such distribution'}")
        extras = set(req.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen.setdefault(name, set()).update(extras)
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in {"", *seen[name]}):
                todo.append(sub)
    return [have[n] for n in sorted(seen)]


def repack(dist: md.Distribution, dest: Path) -> Path:
    """Write ``dist`` as a wheel into ``dest``; its files, metadata and tags as installed."""
    files = list(dist.files or [])
    info_dir = next(f.parts[0] for f in files if f.name == "METADATA" and f.parts[0].endswith(".dist-info"))
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    if not tags:
        raise ValueError(f"{dist.metadata['Name']} has no WHEEL tags to repack with")
    # A compressed tag set (py2.py3-none-any), as the wheel spec names files with several tags.
    tag = "-".join(".".join(sorted({t.split("-")[i] for t in tags})) for i in range(3))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = dest / f"{name}-{dist.version}-{tag}.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:  # stored: fast, pip does not care
        for f in files:
            rel = f.as_posix()
            if (rel.startswith("../") or "__pycache__" in f.parts  # scripts outside; pip rewrites them
                    or (f.parts[0] == info_dir and f.name in _SKIPPED_META)):
                continue
            path = Path(str(f.locate()))
            if not path.is_file():
                continue
            data = path.read_bytes()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{rel},sha256={digest},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return wheel


def add_installed(dest: Path, requirements: Iterable[str], *,
                  skip: Callable[[str], bool] = lambda name: False) -> list[Path]:
    """Repack into ``dest`` every installed distribution ``requirements`` need."""
    dest.mkdir(parents=True, exist_ok=True)
    return [repack(d, dest) for d in closure(requirements, skip=skip)]
