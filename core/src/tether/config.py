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

import os
import re
import threading
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError

_lock = threading.Lock()
_overrides: dict[tuple[str, str | None], dict[str, Any]] = {}
_generation = 0  # bumped on every change so drivers can drop cached clients
_SECRET_OPT_RE = re.compile(r"(secret|token|password|key|credential)", re.IGNORECASE)


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


def _file_options(scheme: str, bucket: str | None) -> dict[str, Any]:
    path = _config_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read tether config file {path}: {exc}") from None
    section = dict(data.get(scheme, {}))
    buckets = section.pop("buckets", {})
    if bucket is not None and bucket in buckets:
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


def describe_options(options: dict[str, Any]) -> dict[str, Any]:
    """Options safe to print: secret-looking values are masked."""
    return {k: ("***" if _SECRET_OPT_RE.search(k) else v) for k, v in options.items()}


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


def int_setting(name: str, default: int) -> int:
    """A core setting from ``TETHER_<NAME>`` (e.g. ``TETHER_MAX_OBJECTS``)."""
    raw = os.environ.get(f"TETHER_{name.upper()}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"TETHER_{name.upper()} must be an integer, got {raw!r}") from None


def bool_option(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
