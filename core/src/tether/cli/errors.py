"""Errors as the CLI shows them: one line, in the CLI's words, or JSON.

Core errors are written for Python callers and name Python arguments
(``overwrite='overwrite'``, ``max_objects=10000``, ``strict=True``). The CLI
shows the same sentence with the flag that does the same thing
(``--overwrite overwrite``, ``--max-objects 10000``, ``--strict``): the
table below is the one place those spellings meet, and the CLI tests raise
each of these errors through the real command line, so a core message that
changes its wording shows up there rather than as Python text in a terminal.

With ``--json`` anywhere on the command line, an error is also printed as
``{"error": {"type": ..., "message": ...}}`` on stdout (same exit code), so a
script reading stdout never has to parse a sentence; stderr keeps the line
for the person watching.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import click

from ..paths import shown_name

#: Python spellings in core messages -> the CLI's.
CLI_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\boverwrite='(fail|preserve|overwrite)'"), r"--overwrite \1"),
    (re.compile(r" or '(fail|preserve|overwrite)' to "), r" or --overwrite \1 to "),
    (re.compile(r"\bmax_objects=(\d+)"), r"--max-objects \1"),
    (re.compile(r"\braise max_objects\b"), "raise --max-objects (or TETHER_MAX_OBJECTS)"),
    (re.compile(r"\bRaise the cap with add_remote\(uri, max_objects=N\), Artifact\(\.\.\., max_objects=N\) "
                r"or `tether log --max-objects N`"), "raise --max-objects (or TETHER_MAX_OBJECTS)"),
    (re.compile(r"\(strict=True\)"), "(--strict)"),
    (re.compile(r"\blog with Artifact\.add \(CLI: tether log without --in-place\)"), "log without --in-place"),
    (re.compile(r"\bArtifact\.add keeps copies\b"), "tether log without --in-place keeps copies"),
)


def cli_message(text: str) -> str:
    """A core message in the CLI's words, on one line, with undecodable bytes shown as ``\\xff``."""
    for pattern, replacement in CLI_SPELLINGS:
        text = pattern.sub(replacement, text)
    return shown_name(" ".join(text.split()))


def wants_json(args: Sequence[str]) -> bool:
    """Whether ``--json`` was given, before a ``--`` that ends the options.

    Read from the raw arguments, so a usage error that stops click before the
    option is parsed is JSON too."""
    options = args[:list(args).index("--")] if "--" in args else args
    return "--json" in options


def report(kind: str, message: str, as_json: bool) -> None:
    """Print one error: ``tether: error: ...`` on stderr, and with ``as_json`` as JSON on stdout."""
    if as_json:
        click.echo(json.dumps({"error": {"type": kind, "message": message}}, ensure_ascii=False))
    click.echo(f"tether: error: {message}", err=True)
