"""Every command and option explains itself, and the shell completes from the catalog (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from tether.cli import cli
from tether.cli.style import first_sentence


def commands(group: click.Group = cli, path: str = "tether") -> Iterator[tuple[str, click.Command]]:
    yield path, group
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from commands(cmd, f"{path} {name}")
        else:
            yield f"{path} {name}", cmd


def test_every_command_and_option_has_a_help_line() -> None:
    missing = []
    for path, cmd in commands():
        if not (cmd.help or cmd.short_help):
            missing.append(path)
        for p in cmd.params:
            if isinstance(p, click.Option) and not (p.help or "").strip():
                missing.append(f"{path} {p.opts[0]}")
    assert not missing, f"no help text: {missing}"


def test_help_shows_each_summary_uncut() -> None:
    runner = CliRunner()
    for path, cmd in commands():
        if not isinstance(cmd, click.Group):
            continue
        args = path.split()[1:]
        shown = " ".join(runner.invoke(cli, [*args, "--help"], terminal_width=80).stdout.split())
        for name, sub in cmd.commands.items():
            summary = " ".join(first_sentence(sub.help).split())
            assert summary and f"{name} {summary}" in shown, (path, name, summary)
            assert not summary.endswith("..."), summary


def test_usage_lines_are_truthful_and_catalog_help_names_its_variable() -> None:
    runner = CliRunner()
    usage = runner.invoke(cli, ["log", "--help"], prog_name="tether").stdout.split("\n\n")[0]
    assert usage == ("Usage: tether log [OPTIONS] NAME [PREFIX=]SOURCE...\n"
                     "   or: tether log [OPTIONS] NAME --upload PATH...")
    top = " ".join(runner.invoke(cli, ["--help"]).stdout.split())
    assert "--catalog URI" in top and "TETHER_CATALOG" in top
    assert "Exit codes: 0 ok; 1 error" in top
    tag_help = " ".join(runner.invoke(cli, ["tag", "--help"]).stdout.split())
    assert "add Add TAGs to a version" in tag_help and "rm Remove TAGs from a version" in tag_help


# --------------------------------------------------------------------- completion
def complete(words: str, shell: str = "bash", env: dict[str, str] | None = None) -> list[str]:
    """What ``tether`` answers the shell for the command line ``words`` (cursor at its end)."""
    parts = words.split(" ")
    base = {**os.environ, **(env or {}), "_TETHER_COMPLETE": f"{shell}_complete"}
    if shell == "fish":  # fish passes the incomplete word itself
        base.update(COMP_WORDS=words, COMP_CWORD=parts[-1])
    else:  # bash and zsh pass the index of the word being completed
        base.update(COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    r = subprocess.run([sys.executable, "-m", "tether.cli"], check=False, capture_output=True, text=True,
                       env=base, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    if shell == "bash":
        return [line.split(",", 1)[1] for line in r.stdout.splitlines() if line]
    return r.stdout.splitlines()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "f.txt").write_text("1")
    runner = CliRunner()
    for i in range(2):
        (data / "f.txt").write_text(str(i))
        assert runner.invoke(cli, ["log", "mydata", str(data), "--alias", f"a{i}"]).exit_code == 0
    assert runner.invoke(cli, ["log", "models", str(data)]).exit_code == 0
    return tmp_path


def test_names_versions_and_aliases_complete_from_the_catalog(catalog: Path) -> None:
    assert complete("tether show m") == ["models", "mydata"]
    assert complete("tether download my") == ["mydata"]
    assert complete("tether show mydata:") == ["mydata:2", "mydata:1", "mydata:latest"]
    assert complete("tether verify mydata@") == ["mydata@a0", "mydata@a1"]
    assert complete("tether tag add mydata@a") == ["mydata@a0", "mydata@a1"]
    assert complete("tether alias rm my") == ["mydata"]
    assert complete("tether alias rm mydata ") == ["a0", "a1"]
    assert complete("tether alias set mydata prod ") == ["2", "1"]
    assert "mydata" in complete("tether show my", shell="zsh")
    assert complete("tether show my", shell="fish") == ["plain,mydata"]


def test_completion_uses_the_catalog_on_the_command_line_and_never_fails(catalog: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-catalog"
    assert CliRunner().invoke(cli, ["--catalog", str(other), "log", "zeta", str(catalog / "data")]).exit_code == 0
    assert complete(f"tether --catalog {other} show ") == ["zeta"]
    assert complete("tether show ", env={"TETHER_CATALOG": str(other)}) == ["zeta"]
    assert complete(f"tether --catalog {tmp_path}/missing show ") == []
    assert complete("tether show nosuch:") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_served_for_each_documented_shell(shell: str) -> None:
    r = subprocess.run([sys.executable, "-m", "tether.cli"], check=False, capture_output=True, text=True,
                       env={**os.environ, "_TETHER_COMPLETE": f"{shell}_source"}, timeout=120)
    assert r.returncode == 0 and "_TETHER_COMPLETE" in r.stdout, r.stderr
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text()
    assert f"_TETHER_COMPLETE={shell}_source tether" in guide
    assert "_TETHER_COMPLETE=bash_source tether" in readme
