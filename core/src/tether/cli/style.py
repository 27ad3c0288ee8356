"""How tether's commands present themselves in ``--help``.

:class:`TetherGroup` makes every command registered on it (here or in other
modules, with ``@cli.command()``) a :class:`TetherCommand`: its summary in the
group's command list is the first sentence of its help, never cut at click's
45 characters, and a command may show several usage lines (``log`` takes
sources, ``--upload`` paths, or both).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import click


def first_sentence(text: str | None) -> str:
    """The summary of a help text: its first paragraph's first sentence, whole."""
    para = inspect.cleandoc(text or "").split("\n\n", 1)[0].replace("\n", " ").strip()
    cut = para.find(". ")
    return para if cut < 0 else para[:cut + 1]


class TetherCommand(click.Command):
    """A command whose summary is never truncated and which may list several
    usage forms (``usage_lines``: the argument parts after the command path)."""

    def __init__(self, *args: Any, usage_lines: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.usage_lines = tuple(usage_lines)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or first_sentence(self.help)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.usage_lines:
            super().format_usage(ctx, formatter)
            return
        for i, line in enumerate(self.usage_lines):
            formatter.write_usage(ctx.command_path, line, prefix="Usage: " if i == 0 else "   or: ")


class TetherGroup(click.Group):
    """A group whose commands and sub-groups are Tether ones (see the module docstring)."""

    command_class = TetherCommand

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or first_sentence(self.help)


TetherGroup.group_class = TetherGroup
