"""Declared driver options: a driver lists what it accepts, core checks and converts.

A driver sets ``options = (Option("endpoint_url", str, help=...), ...)``. The
merged options for a scheme and bucket (config file < ``TETHER_<SCHEME>_*``
environment variables < :func:`tether.configure`) are then validated against
that schema before ``make_filesystem`` sees them: each value converted to its
declared type (with the error naming where it was set, as
:func:`tether.config.option_origin` words it), an unknown key a
:class:`~tether.errors.ConfigError` naming the nearest valid one. Secrets are
masked because they are *declared* secret, not because their name looks like
one. A driver that declares nothing (``options = None``) gets its options
unchecked, as before declarations existed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import attrs

from .config import OptionReader, describe_options, driver_options, option_origin, option_source
from .errors import ConfigError

#: ``object``: any value, passed through unchecked (a credentials object, ``verify``'s bool-or-path).
TYPES = (str, int, float, bool, object)


@attrs.frozen
class Option:
    """One option a driver accepts."""

    name: str
    type: type = str
    default: Any = None
    secret: bool = False
    help: str = ""
    #: For ``str``: the only values allowed. For ``int``/``float``: the smallest value.
    choices: tuple[str, ...] | None = None
    minimum: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"option {self.name!r}: type must be one of str, int, float, bool, object")

    def describe(self) -> dict[str, Any]:
        """A printable row: the default of a secret is never shown."""
        return {"name": self.name, "type": self.type.__name__, "secret": self.secret, "help": self.help,
                "default": None if self.secret else self.default,
                **({"choices": list(self.choices)} if self.choices else {})}

    def convert(self, reader: OptionReader) -> Any:
        key = self.name
        if self.type is object:
            return reader.options.get(key, self.default)
        if self.type is bool:
            return reader.get_bool(key, bool(self.default))
        if self.type is int:
            minimum = None if self.minimum is None else int(self.minimum)
            return reader.get_int(key, self.default, minimum=minimum)
        if self.type is float:
            return reader.get_float(key, self.default, minimum=self.minimum)
        value = reader.get_choice(key, self.choices) if self.choices else reader.get_str(key)
        return self.default if value is None else value


def validate(scheme: str, bucket: str | None, values: dict[str, Any],
             declared: Iterable[Option]) -> dict[str, Any]:
    """``values`` checked and converted against ``declared``; unset options are left out
    unless they have a default."""
    by_name = {o.name: o for o in declared}
    for key in values:
        if key not in by_name:
            near = difflib.get_close_matches(key, list(by_name), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else (
                f"; valid options: {', '.join(sorted(by_name))}" if by_name else "; it takes no options")
            raise ConfigError(f"{option_origin(scheme, bucket, key)}: unknown {scheme}:// option {key!r}{hint}")
    reader = OptionReader(scheme, bucket, values)
    out: dict[str, Any] = {}
    for name, opt in by_name.items():
        if name in values or opt.default is not None:
            value = opt.convert(_Masked(reader, opt))
            if value is not None:
                out[name] = value
    return out


class _Masked(OptionReader):
    """The reader, with an error that shows a declared secret's type, never its value."""

    def __init__(self, reader: OptionReader, opt: Option) -> None:
        super().__init__(reader.scheme, reader.bucket, reader.options)
        self._opt = opt

    def _bad(self, key: str, want: str) -> ConfigError:
        if not self._opt.secret:
            return super()._bad(key, want)
        value = self.options[key]
        return ConfigError(f"{option_origin(self.scheme, self.bucket, key)} must be {want}, "
                           f"got a {type(value).__name__}")


def mask(values: dict[str, Any], declared: Iterable[Option] | None) -> dict[str, Any]:
    """``values`` safe to print: declared secrets masked, and undeclared keys of a declaring
    driver (see :func:`config.describe_options`, which a driver declaring nothing gets as before)."""
    return describe_options(values, declared)


def in_effect(scheme: str, declared: Iterable[Option] | None, bucket: str | None = None) -> list[dict[str, Any]]:
    """Each declared option of ``scheme`` as a printable row: the value in effect and
    ``source``, the layer that set it (``default``, ``config file``, ``env``,
    ``configure()``; :func:`tether.config.option_source`).

    A secret's row never carries its value, only ``set``: the same rule as
    ``git config``'s credential helpers and the AWS CLI's ``configure list``,
    which say where a key comes from, never the key. A value that does not convert
    carries the error its use would raise instead; a key the driver does not
    declare is a row with the ``unknown`` error and no value."""
    values = driver_options(scheme, bucket)
    if declared is None:  # nothing declared: what is configured, masked by the name rule
        shown = describe_options(values)
        return [{"name": k, "type": None, "secret": shown[k] is not v, "set": True, "help": "",
                 "source": option_source(scheme, bucket, k), "error": None,
                 **({} if shown[k] is not v else {"value": _printable(v)})} for k, v in values.items()]
    declared = tuple(declared)
    reader = OptionReader(scheme, bucket, values)
    rows: list[dict[str, Any]] = []
    for opt in declared:
        source = option_source(scheme, bucket, opt.name) if opt.name in values else None
        row: dict[str, Any] = {"name": opt.name, "type": opt.type.__name__, "secret": opt.secret,
                               "source": source or "default", "help": opt.help}
        try:
            value = opt.convert(_Masked(reader, opt)) if source else opt.default
            row["error"] = None
        except ConfigError as exc:
            value, row["error"] = None, str(exc)
        row["set"] = value is not None or row["error"] is not None
        if not opt.secret:
            row["value"] = _printable(value)
        rows.append(row)
    names = {r["name"] for r in rows}
    for key in values:
        if key not in names:
            try:
                validate(scheme, bucket, {key: values[key]}, declared)
            except ConfigError as exc:
                rows.append({"name": key, "type": None, "secret": None, "set": True, "help": "",
                             "source": option_source(scheme, bucket, key), "error": str(exc)})
    return rows


def _printable(value: Any) -> Any:
    """JSON-ready: a credentials object or path object (``type=object``) as its repr."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else repr(value)
