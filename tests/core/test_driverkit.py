"""The driver authors' surface: tether.driverkit is documented, and the in-tree
plugins are written against the public modules only, as a third party must be."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

import tether
from tether import driverkit

ROOT = Path(__file__).parents[2]

#: What a plugin may import from tether (``docs/plugins.md``, :mod:`tether.driverkit`).
#: ``tether.objectstore`` is the object-store base class of issue 15, added alongside.
PUBLIC_MODULES = frozenset({
    "tether", "tether.driverkit", "tether.errors", "tether.models", "tether.options", "tether.hookspecs",
    "tether.objectstore", "tether.checksum_kinds",
})

PLUGIN_SOURCES = sorted(
    [*ROOT.glob("plugins/*/src/**/*.py"), *ROOT.glob("docs/example-plugin/src/**/*.py"),
     *ROOT.glob("docs/example-audit-plugin/src/**/*.py"), *ROOT.glob("docs/example-checksum-plugin/src/**/*.py"),
     *ROOT.glob("docs/example-objectstore-plugin/src/**/*.py")])


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def private_imports(source: str) -> list[str]:
    """Every use of a non-public tether module in ``source``: ``import tether.x``,
    ``from tether.x import y``, ``from tether import x`` (a submodule) and
    ``tether.x.y`` attribute access, wherever it appears (function bodies too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names if a.name.split(".")[0] == "tether"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "tether":
                modules = [f"tether.{a.name}" for a in node.names if _is_module(f"tether.{a.name}")]
            elif node.module.split(".")[0] == "tether":
                modules = [node.module]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "tether" and _is_module(f"tether.{node.attr}")):
            modules = [f"tether.{node.attr}"]
        found.extend(f"line {node.lineno}: {m}" for m in modules if m not in PUBLIC_MODULES)
    return found


def test_the_checker_finds_every_way_of_reaching_a_private_module() -> None:
    source = ("import tether\nimport tether.config\nfrom tether.driver import Driver\nfrom tether import progress\n"
              "from tether import hookimpl, errors\nfrom tether.driverkit import redact\n"
              "def f():\n    from tether.uris import redact\n    return tether.driver.iso_time(0)\n")
    assert private_imports(source) == ["line 2: tether.config", "line 3: tether.driver", "line 4: tether.progress",
                                       "line 8: tether.uris", "line 9: tether.driver"]


def test_the_plugins_are_found() -> None:
    names = {p.relative_to(ROOT).parts[1] for p in PLUGIN_SOURCES}
    assert {"local", "s3", "gcs", "azure", "http", "example-plugin", "example-audit-plugin",
            "example-objectstore-plugin"} <= names


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_in_tree_plugins_import_only_public_tether_modules(path: Path) -> None:
    assert private_imports(path.read_text(encoding="utf-8")) == [], (
        f"{path.relative_to(ROOT)} reaches into tether internals; import from "
        f"{', '.join(sorted(PUBLIC_MODULES))} (add what a driver needs to tether.driverkit)")


def _constant_comments() -> dict[str, str]:
    """The ``#:`` comment above each module-level assignment in driverkit.py."""
    source = Path(driverkit.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            above = []
            i = node.lineno - 2
            while i >= 0 and lines[i].startswith("#:"):
                above.insert(0, lines[i][2:].strip())
                i -= 1
            for t in targets:
                if isinstance(t, ast.Name):
                    out[t.id] = " ".join(above)
    return out


def test_every_driverkit_name_is_documented() -> None:
    assert len(set(driverkit.__all__)) == len(driverkit.__all__)
    comments = _constant_comments()
    undocumented = []
    for name in driverkit.__all__:
        obj = getattr(driverkit, name)
        if inspect.isclass(obj):
            doc = vars(obj).get("__doc__")  # not a base class's
        elif callable(obj):
            doc = obj.__doc__
        else:  # a constant: its docstring is the ``#:`` comment above it
            doc = comments.get(name)
        if not doc or len(doc.strip()) < 20:
            undocumented.append(name)
    assert undocumented == []


def test_driverkit_reexports_tethers_own_objects() -> None:
    from tether import checksums, driver, staging, uris

    assert driverkit.Driver is tether.Driver is driver.Driver
    assert driverkit.redact is uris.redact and driverkit.SourceReader is staging.SourceReader
    assert driverkit.CHUNK == checksums.CHUNK and driverkit.DEFAULT_MAX_OBJECTS == driver.DEFAULT_MAX_OBJECTS


def test_docs_list_every_driverkit_name() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = re.search(r"^## driverkit: helpers for driver authors\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert section is not None
    listed = set(re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)", section.group(1), re.MULTILINE))
    assert listed == set(driverkit.__all__)
