"""Configuration: where tether keeps its files, and per-scheme driver options.

Driver options (endpoint URL, region, profile, project, retries ...) come from,
lowest precedence first:

1. the config file ``$TETHER_HOME/config.toml`` (or ``$TETHER_CONFIG``)::

       [s3]
       endpoint_url = "http://127.0.0.1:9000"
       [s3.buckets.team-bucket]
       profile = "team"

2. environment variables ``TETHER_<SCHEME>_<OPTION>`` (``TETHER_S3_ENDPOINT_URL``),
3. :func:`configure` calls in the process, per scheme or per bucket.

Options configure *clients*; they never enter a manifest, and
:func:`describe_options` masks secret-looking values before anything shows them.
"""

from __future__ import annotations

import math
import os
import re
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ConfigError

_lock = threading.Lock()
_overrides: dict[tuple[str, str | None], dict[str, Any]] = {}
_generation = 0  # bumped on every change so drivers can drop cached clients
# Undeclared options only (declared ones are masked by declaration): Azure's
# connection_string and sas carry keys without saying "key".
_SECRET_OPT_RE = re.compile(r"(secret|token|password|key|credential|connection_string|sas|signature)",
                            re.IGNORECASE)


def home_dir() -> Path:
    """The embedded catalog's folder: ``$TETHER_HOME``, else a per-user data folder."""
    env = os.environ.get("TETHER_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tether", appauthor=False))


def cache_dir() -> Path:
    """Where the local checksum cache lives (``$TETHER_CACHE_DIR`` overrides)."""
    env = os.environ.get("TETHER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if os.environ.get("TETHER_HOME"):
        return home_dir() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("tether", appauthor=False))


def _config_file() -> Path:
    env = os.environ.get("TETHER_CONFIG")
    return Path(env).expanduser() if env else home_dir() / "config.toml"


def config_file() -> Path:
    """The config file tether reads: ``$TETHER_CONFIG``, else ``$TETHER_HOME/config.toml``
    (it need not exist)."""
    return _config_file()


def _file_options(scheme: str, bucket: str | None) -> dict[str, Any]:
    """``[scheme]`` of the config file, with ``[scheme.buckets.<bucket>]`` over it.

    The shape is checked here, where the file is read: a section or a bucket
    entry that is not a table is a ConfigError naming the file and the key
    (option *values* are typed by :class:`OptionReader`, which knows what each
    driver option must be)."""
    path = _config_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # TOMLDecodeError, or bytes that are not UTF-8
        raise ConfigError(f"cannot read tether config file {path}: {exc}") from None
    raw = data.get(scheme, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"tether config file {path}: {scheme} must be a table ([{scheme}]), got {raw!r}")
    section = dict(raw)
    buckets = section.pop("buckets", {})
    if not isinstance(buckets, dict):
        raise ConfigError(f"tether config file {path}: [{scheme}] buckets must be a table of "
                          f"[{scheme}.buckets.NAME] tables, got {buckets!r}")
    if bucket is not None and bucket in buckets:
        if not isinstance(buckets[bucket], dict):
            raise ConfigError(f"tether config file {path}: [{scheme}.buckets] {bucket} must be a table "
                              f"([{scheme}.buckets.{bucket}]), got {buckets[bucket]!r}")
        section.update(buckets[bucket])
    return section


def _env_options(scheme: str) -> dict[str, Any]:
    prefix = f"TETHER_{re.sub(r'[^A-Z0-9]', '_', scheme.upper())}_"
    return {k[len(prefix):].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}


def configure(scheme: str, *, bucket: str | None = None, **options: Any) -> None:
    """Set driver options for a scheme (``"s3"``, ``"gs"`` ...), or one bucket of it.

    ``tether.configure("s3", endpoint_url="http://127.0.0.1:9000")``;
    ``tether.configure("s3", bucket="team", profile="team")``. A value of None
    removes an option set earlier.
    """
    global _generation
    with _lock:
        current = _overrides.setdefault((scheme.lower(), bucket), {})
        for k, v in options.items():
            if v is None:
                current.pop(k, None)
            else:
                current[k] = v
        _generation += 1


def reset() -> None:
    """Forget every :func:`configure` call (tests use this)."""
    global _generation
    with _lock:
        _overrides.clear()
        _generation += 1


def generation() -> int:
    """A counter that changes whenever the configuration does (``configure()``,
    ``reset()``): key anything derived from options on it, so a reconfigured
    driver never serves what the old options produced."""
    return _generation


def driver_options(scheme: str, bucket: str | None = None) -> dict[str, Any]:
    """The merged options for ``scheme`` (and ``bucket``), file < env < configure()."""
    scheme = scheme.lower()
    opts = _file_options(scheme, bucket)
    opts.update(_env_options(scheme))
    with _lock:
        opts.update(_overrides.get((scheme, None), {}))
        if bucket is not None:
            opts.update(_overrides.get((scheme, bucket), {}))
    return opts


def describe_options(options: dict[str, Any], declared: Iterable[Any] | None = None) -> dict[str, Any]:
    """Options safe to print.

    ``declared`` is the driver's :attr:`~tether.driver.Driver.declared_options`:
    an option declared ``secret`` is masked whatever its name, and a key the
    driver does not declare (a typo, refused when a client is built) is masked
    too, since nothing says what it holds. A driver that declares nothing
    (``None``) keeps the name rule: secret-looking names are masked."""
    if declared is None:
        return {k: ("***" if _SECRET_OPT_RE.search(k) else v) for k, v in options.items()}
    public = {o.name for o in declared if not o.secret}
    return {k: (v if k in public else "***") for k, v in options.items()}


def option_source(scheme: str, bucket: str | None, key: str) -> str | None:
    """Which layer set driver option ``key``: ``"configure()"``, ``"env"`` or
    ``"config file"`` (the highest that has it, the precedence :func:`driver_options`
    applies), None when no layer does (the driver's default applies).
    :func:`option_origin` words the same place for an error message."""
    scheme = scheme.lower()
    with _lock:
        if any(key in _overrides.get((scheme, b), {}) for b in {None, bucket}):
            return "configure()"
    if key in _env_options(scheme):
        return "env"
    if key in _file_options(scheme, bucket):
        return "config file"
    return None


def option_origin(scheme: str, bucket: str | None, key: str) -> str:
    """Where the value of driver option ``key`` was set, for error messages:
    the :func:`configure` call, the environment variable or the config file
    and table (the same precedence :func:`driver_options` applies)."""
    scheme = scheme.lower()
    with _lock:
        for b in ((bucket, None) if bucket is not None else (None,)):
            if key in _overrides.get((scheme, b), {}):
                where = f", bucket={b!r}" if b is not None else ""
                return f"tether.configure({scheme!r}{where}) option {key!r}"
    prefix = f"TETHER_{re.sub(r'[^A-Z0-9]', '_', scheme.upper())}_"
    for name in os.environ:
        if name.startswith(prefix) and name[len(prefix):].lower() == key:
            return f"environment variable {name}"
    path = _config_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        buckets = data.get(scheme, {}).get("buckets", {})
        if bucket is not None and key in buckets.get(bucket, {}):
            return f"tether config file {path}: [{scheme}.buckets.{bucket}] {key}"
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # a file too broken to say more: name the scheme's table
    return f"tether config file {path}: [{scheme}] {key}"


class OptionReader:
    """Typed access to one driver's merged options (``make_filesystem`` uses it).

    Values from the config file arrive as TOML types, from the environment as
    strings, from :func:`configure` as anything: each getter accepts the
    spellings that mean its type and raises a :class:`ConfigError` naming where
    the value was set (:func:`option_origin`) for anything else, before a
    client is built with it."""

    _TRUE = frozenset({"1", "true", "yes", "on"})
    _FALSE = frozenset({"0", "false", "no", "off", ""})

    def __init__(self, scheme: str, bucket: str | None, options: dict[str, Any]) -> None:
        self.scheme, self.bucket, self.options = scheme, bucket, options

    def _bad(self, key: str, want: str) -> ConfigError:
        value = self.options[key]
        shown = f"a {type(value).__name__}" if _SECRET_OPT_RE.search(key) else repr(value)
        return ConfigError(f"{option_origin(self.scheme, self.bucket, key)} must be {want}, got {shown}")

    def get_str(self, key: str) -> str | None:
        """A string option; absent or empty is None."""
        value = self.options.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def get_choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.get_str(key)
        if value is not None and value not in choices:
            raise self._bad(key, "one of " + ", ".join(repr(c) for c in choices))
        return value

    def get_int(self, key: str, default: int, *, minimum: int | None = None) -> int:
        value = self.options.get(key)
        if value is None or value == "":
            return default
        want = "a whole number" + (f" >= {minimum}" if minimum is not None else "")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self._bad(key, want)
        try:
            number = int(value)
        except ValueError:
            raise self._bad(key, want) from None
        if minimum is not None and number < minimum:
            raise self._bad(key, want)
        return number

    def get_float(self, key: str, default: float | None = None, *,
                  minimum: float | None = None) -> float | None:
        value = self.options.get(key)
        if value is None or value == "":
            return default
        want = "a number" + (f" >= {minimum}" if minimum is not None else "")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self._bad(key, want)
        try:
            number = float(value)
        except ValueError:
            raise self._bad(key, want) from None
        if not math.isfinite(number) or (minimum is not None and number < minimum):
            raise self._bad(key, want)
        return number

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.options.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in self._TRUE | self._FALSE:
            return value.strip().lower() in self._TRUE
        raise self._bad(key, "true or false")


def _env_value(name: str) -> str | None:
    raw = os.environ.get(f"TETHER_{name.upper()}")
    return None if raw is None or raw.strip() == "" else raw.strip()


def int_setting(name: str, default: int, *, minimum: int | None = None) -> int:
    """A core setting from ``TETHER_<NAME>`` (e.g. ``TETHER_MAX_OBJECTS``); unset
    or empty is ``default``; anything but a whole number (at least ``minimum``)
    is a ConfigError naming the variable."""
    raw = _env_value(name)
    if raw is None:
        return default
    want = "a whole number" + (f" >= {minimum}" if minimum is not None else "")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"TETHER_{name.upper()} must be {want}, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"TETHER_{name.upper()} must be {want}, got {raw!r}")
    return value


def float_setting(name: str, default: float, *, minimum: float | None = None) -> float:
    """Like :func:`int_setting` for a finite number (``TETHER_RETRY_BASE_DELAY``)."""
    raw = _env_value(name)
    if raw is None:
        return default
    want = "a number" + (f" >= {minimum}" if minimum is not None else "")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"TETHER_{name.upper()} must be {want}, got {raw!r}") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise ConfigError(f"TETHER_{name.upper()} must be {want}, got {raw!r}")
    return value


def bool_option(value: Any) -> bool:
    """An option value as a bool: the strings ``1``, ``true``, ``yes``, ``on`` (any case) are true."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def allowed_schemes() -> frozenset[str]:
    """Source schemes a catalog on another machine may point downloads at, beyond
    the remote ones: ``TETHER_ALLOW_SCHEMES=file`` (a comma list), or
    ``allow_schemes = ["file"]`` at the top of the config file."""
    out = {s.strip().lower() for s in os.environ.get("TETHER_ALLOW_SCHEMES", "").split(",") if s.strip()}
    path = _config_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset(out)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read tether config file {path}: {exc}") from None
    value = data.get("allow_schemes", [])
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: allow_schemes must be a list of scheme names, like [\"file\"]")
    out.update(v.strip().lower() for v in value if v.strip())
    return frozenset(out)
