"""What users install, in fresh virtual environments, offline: from a checkout and as published.

Editable installs hide packaging mistakes (a module left out of a wheel, a
missing entry point, an undeclared dependency, a pin no index can satisfy);
these tests build every package and install it the two ways the README gives:

* from a checkout, naming the package folders (``pip install ./core
  ./plugins/local``), with no index that knows tether's packages;
* as published (``pip install tether``, ``tether[s3]``, ...), with the built
  wheels standing in for the index.

Everything is offline: ``--no-index`` and a wheelhouse of the third-party
distributions this test environment already has (see ``tests/wheelhouse.py``).
"""

from __future__ import annotations

import email.parser
import json
import shlex
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from tether.plugins import install_hint

from .wheelhouse import add_installed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"tether": "core", "tether-local": "plugins/local", "tether-s3": "plugins/s3",
            "tether-gcs": "plugins/gcs", "tether-example-memory": "docs/example-plugin"}
LOCAL, S3, GCS = (("tether-local", ["file"], None), ("tether-s3", ["s3", "s3a"], None),
                  ("tether-gcs", ["gs", "gcs"], None))
HEAVY = ("boto3", "botocore", "s3fs", "aiobotocore", "gcsfs", "google")


def _ours(name: str) -> bool:
    return name == "tether" or name.startswith("tether-")


def _run(*cmd: str | Path, ok: bool = True, **kw) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True, timeout=900, **kw)
    if ok:
        assert r.returncode == 0, f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the source tree, in a folder whose name has a space, as a user's might."""
    dest = tmp_path_factory.mktemp("src") / "my checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".venv")
    for sub in (*PACKAGES.values(), "examples"):
        shutil.copytree(ROOT / sub, dest / sub, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Third-party wheels only (and the build backend): a checkout's view of the world."""
    wheels = tmp_path_factory.mktemp("deps")
    add_installed(wheels, ["hatchling>=1.27"])
    requires = []
    for sub in PACKAGES.values():
        requires += _requirements_of(ROOT / sub)
    add_installed(wheels, requires, skip=_ours)
    return wheels


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, checkout: Path, deps: Path) -> Path:
    """tether's own wheels, built offline (the build backend from ``deps``): the future index."""
    wheels = tmp_path_factory.mktemp("dist")
    for sub in PACKAGES.values():
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links", deps, "-q",
             "-w", wheels, checkout / sub)
    assert sorted(p.name.split("-")[0] for p in wheels.glob("*.whl")) == \
        sorted(n.replace("-", "_") for n in PACKAGES)
    return wheels


def _requirements_of(folder: Path) -> list[str]:
    """A project's requirements, with every extra's, read from its pyproject.toml."""
    import tomllib

    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    return project.get("dependencies", []) + [r for rs in project.get("optional-dependencies", {}).values()
                                              for r in rs]


def _fresh_venv(path: Path) -> tuple[Path, Path]:
    venv.create(path, with_pip=True)
    return path / "bin" / "python", path / "bin" / "tether"


def _pip(py: Path, *args: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(py, "-m", "pip", "install", "--disable-pip-version-check", "--no-index", *args, ok=ok)


def _drivers(tether: Path, cwd: Path) -> list[tuple[str, list[str], str | None]]:
    out = json.loads(_run(tether, "plugins", "--json", cwd=cwd).stdout)
    return [(p["distribution"], p["schemes"], p["error"]) for p in out["plugins"]]


def _hint(tether: Path, scheme: str, cwd: Path) -> str:
    r = _run(tether, "log", "x", f"{scheme}://bucket/key", ok=False, cwd=cwd,
             env={"PATH": "/usr/bin:/bin", "TETHER_HOME": str(cwd / "home")})
    assert r.returncode == 1, r.stderr
    prefix = f"tether: error: {scheme}:// needs: "
    assert r.stderr.startswith(prefix) and r.stderr.count("\n") == 1, r.stderr
    return r.stderr[len(prefix):].strip()


def _imports_no_store_client(py: Path) -> None:
    loaded = _run(py, "-c", "import sys, tether, tether.cli; print(sorted(m for m in sys.modules "
                            f"if m.split('.')[0] in {set(HEAVY)!r}))").stdout.strip()
    assert loaded == "[]"


def test_install_from_a_checkout_names_folders_and_hints_point_at_them(tmp_path: Path, checkout: Path,
                                                                        deps: Path) -> None:
    py, tether = _fresh_venv(tmp_path / "venv")
    # core alone cannot work from a checkout: its local driver is on no index (the README says so)
    alone = _pip(py, "--find-links", deps, checkout / "core", ok=False)
    assert alone.returncode != 0
    assert "No matching distribution found for tether-local<0.2,>=0.1" in alone.stderr
    # the README's first command, offline
    _pip(py, "--find-links", deps, checkout / "core", checkout / "plugins" / "local")
    assert _drivers(tether, tmp_path) == [LOCAL]
    # the hint names this checkout's folder, quoted for the shell, and can be run as it is
    s3_hint = _hint(tether, "s3", tmp_path)
    assert s3_hint == f"pip install {shlex.quote(str(checkout / 'plugins' / 's3'))}"
    assert _hint(tether, "gs", tmp_path) == f"pip install {shlex.quote(str(checkout / 'plugins' / 'gcs'))}"
    _pip(py, "--find-links", deps, *shlex.split(s3_hint)[2:])
    assert _drivers(tether, tmp_path) == [LOCAL, S3]
    # an extra from a checkout resolves when its folder is named too
    _pip(py, "--find-links", deps, f"{checkout / 'core'}[gcs]", checkout / "plugins" / "gcs")
    assert _drivers(tether, tmp_path) == [GCS, LOCAL, S3]
    _imports_no_store_client(py)
    # the quickstart runs in what was installed, and leaves nothing behind
    run = _run(py, checkout / "examples" / "quickstart.py", cwd=tmp_path,
               env={"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "real-home")})
    assert "downloaded quickstart-data:v1" in run.stdout, run.stdout
    assert not (tmp_path / "real-home").exists()


def test_install_as_published_with_each_extra(tmp_path: Path, checkout: Path, deps: Path, dist: Path) -> None:
    # a bug-fix release of the local driver alone, published after tether 0.1.0
    fix = shutil.copytree(checkout / "plugins" / "local", tmp_path / "local-fix")
    pyproject = fix / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.1.1"', 1))
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links", deps, "-q",
         "-w", tmp_path / "fix", fix)
    py, tether = _fresh_venv(tmp_path / "venv")
    index = ("--find-links", deps, "--find-links", dist, "--find-links", tmp_path / "fix")
    # `pip install tether` alone: the local driver comes with it, through its declared dependency,
    # and the newest compatible driver is taken without a new tether release
    _pip(py, *index, "tether")
    assert _drivers(tether, tmp_path) == [LOCAL]
    versions = {p["distribution"]: p["version"] for p in
                json.loads(_run(tether, "plugins", "--json", cwd=tmp_path).stdout)["plugins"]}
    assert versions == {"tether-local": "0.1.1"}
    assert _hint(tether, "s3", tmp_path) == "pip install tether-s3"
    assert _hint(tether, "gcs", tmp_path) == "pip install tether-gcs"
    _imports_no_store_client(py)
    # tether[all] resolves to both drivers (checked without installing: the extras below install them)
    report = json.loads(_run(py, "-m", "pip", "install", "--disable-pip-version-check", "--no-index", *index,
                             "--dry-run", "--quiet", "--report", "-", "tether[all]").stdout)
    assert {"tether-s3", "tether-gcs"} <= {i["metadata"]["name"] for i in report["install"]}
    # the whole loop with only the installed wheels, on the embedded catalog
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a")
    env = {"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "home")}
    _run(tether, "log", "ds", "--upload", data, env=env)
    _run(tether, "download", "ds", tmp_path / "out", env=env)
    assert (tmp_path / "out" / "a.txt").read_text() == "a"
    # each extra brings its driver, found through its entry point
    _pip(py, *index, "tether[s3]")
    assert _drivers(tether, tmp_path) == [LOCAL, S3]
    _pip(py, *index, "tether[gcs]")
    assert _drivers(tether, tmp_path) == [GCS, LOCAL, S3]
    _imports_no_store_client(py)


def test_hint_in_the_development_environment_names_the_editable_folder() -> None:
    # scripts/test installs every package editable from this tree (pip install -e core ...)
    for scheme, folder in (("s3", "s3"), ("gcs", "gcs"), ("file", "local")):
        path = shlex.quote(str(ROOT / "plugins" / folder))
        assert install_hint(scheme) == f"{scheme}:// needs: pip install -e {path}"
    assert install_hint("ftp") is None


def test_every_package_declares_license_classifiers_urls_readme_and_ranges(dist: Path) -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    urls = set()
    for wheel in sorted(dist.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            info = next(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
            assert zf.read(f"{info}/licenses/LICENSE").decode() == license_text, wheel.name
        name = meta["Name"]
        assert meta["License-Expression"] == "MIT", name
        classifiers = meta.get_all("Classifier")
        for c in ("Operating System :: OS Independent", "Programming Language :: Python :: 3.11",
                  "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13",
                  "Topic :: Scientific/Engineering", "Topic :: System :: Archiving"):
            assert c in classifiers, (name, c)
        # PEP 639: the expression replaces license classifiers; tools may refuse both together
        assert not [c for c in classifiers if c.startswith("License ::")], name
        assert meta["Requires-Python"] == ">=3.11"
        assert len(meta["Summary"]) > 40 and meta["Description-Content-Type"] == "text/markdown", name
        assert meta.get_payload().startswith(f"# {name}\n"), name  # its README is the description
        project_urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
        assert {"Homepage", "Documentation", "Issues"} <= project_urls.keys(), name
        urls.add((project_urls["Homepage"], project_urls["Documentation"], project_urls["Issues"]))
        # between tether's own packages: compatible ranges, never an exact pin
        for line in meta.get_all("Requires-Dist") or []:
            req = Requirement(line)
            if _ours(req.name):
                assert req.specifier == SpecifierSet(">=0.1,<0.2"), (name, line)
    repo = "https://github.com/tether-dev/tether"
    assert urls == {(repo, f"{repo}/tree/main/docs", f"{repo}/issues")}
    for sub in PACKAGES.values():
        assert (ROOT / sub / "LICENSE").read_text() == license_text, sub
