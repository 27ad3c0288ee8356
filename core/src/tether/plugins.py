"""Plugin discovery: entry points -> plugin manager -> scheme registry and hooks.

The only module that builds the plugin manager; :mod:`tether.operations` is
the one that calls the operation hooks, through :attr:`Registry.hook`. Each
entry point in the group ``tether.drivers`` names a module with hook
implementations: ``tether_register_drivers`` for backends, the operation
hooks (``tether_resolve`` ...) for cross-cutting behaviour, or both. One group
for both kinds (a module with hooks but no drivers is fine), so there is one
place to install, list and disable plugins. Core's default operation
implementations are registered in the same manager, as plugin ``tether``.

A plugin's operation hook that raises is reported as
:class:`~tether.errors.PluginError` naming the plugin and the hook; a tether
error it raises on purpose (a policy plugin's ``AccessDeniedError``) and an
error it merely lets through from the operation it wraps pass unchanged.

Failures are contained per plugin: a plugin that fails to import or whose hook
raises is recorded (a warning now, a row in ``tether plugins``) and only the
schemes it would have served fail, with an error naming it. Two drivers
claiming one scheme is a conflict: neither is used for that scheme until
``TETHER_DRIVER_<SCHEME>=<plugin>`` picks one.

Switches: ``TETHER_DISABLE_PLUGINS=a,b`` skips plugins by entry-point name.

Install hints (which distribution serves a scheme) live in :mod:`tether.installhints`.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import threading
import warnings
from collections.abc import Iterable

import attrs
import pluggy

from . import checksum_kinds, hookspecs, operations, uris
from .checksum_kinds import BUILTIN_KINDS, ChecksumKind, KindTable
from .driver import Driver
from .errors import (
    DriverConflictError,
    DriverLoadError,
    DriverNotInstalledError,
    NoDriverError,
    PluginError,
    TetherError,
)
from .installhints import (
    INSTALL_HINTS,
    LINK_ONLY_WITHOUT_DRIVER,
    install_hint,
)
from .uris import SCHEME_NAME_RE

ENTRY_POINT_GROUP = "tether.drivers"
#: The plugin name core's own checksum kinds are registered under.
BUILTIN_CHECKSUMS = "tether.checksums"
#: Names a plugin's checksum kind may not take: core's kinds and its strength names.
_BUILTIN_NAMES = frozenset(k.name for k in BUILTIN_KINDS) | {"multipart-etag", "size-only", "link-only"}

class PluginLoadWarning(UserWarning):
    """A tether plugin failed to load; other drivers still work."""


@attrs.frozen
class PluginInfo:
    """One discovered plugin, as ``tether plugins`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    schemes: tuple[str, ...] = ()
    drivers: tuple[str, ...] = ()
    error: str | None = None
    #: The hooks this plugin implements (``tether_register_drivers``, ``tether_resolve`` ...).
    hooks: tuple[str, ...] = ()
    #: The checksum kinds it registers (``tether_register_checksums``).
    checksums: tuple[str, ...] = ()


@attrs.frozen
class DriverEntry:
    scheme: str
    driver_class: type[Driver]
    plugin: str


class Registry:
    """Plugins and the scheme -> driver table, built once, lazily."""

    def __init__(self, entry_points: Iterable[md.EntryPoint] | None = None) -> None:
        self._entry_points = entry_points
        self._loaded = False
        self._lock = threading.RLock()
        self._plugins: list[PluginInfo] = []
        self._by_scheme: dict[str, list[DriverEntry]] = {}
        self._instances: dict[str, Driver] = {}
        self._pm: pluggy.PluginManager | None = None
        self._kinds: KindTable | None = None

    # ----------------------------------------------------------------- loading
    def _discover(self) -> Iterable[md.EntryPoint]:
        if self._entry_points is not None:
            return self._entry_points
        return md.entry_points(group=ENTRY_POINT_GROUP)

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            disabled = {n.strip() for n in os.environ.get("TETHER_DISABLE_PLUGINS", "").split(",") if n.strip()}
            pm = pluggy.PluginManager("tether")
            pm.add_hookspecs(hookspecs)
            pm.register(operations.Defaults(), name="tether")
            pm.register(checksum_kinds, name=BUILTIN_CHECKSUMS)
            kind_regs: list[tuple[str, ChecksumKind]] = [(BUILTIN_CHECKSUMS, k) for k in BUILTIN_KINDS]
            seen: set[str] = set()
            for ep in sorted(self._discover(), key=lambda e: e.name):
                if ep.name in disabled or ep.name in seen:
                    continue
                seen.add(ep.name)
                dist = getattr(ep, "dist", None)
                dist_name = dist.metadata["Name"] if dist is not None else None
                dist_version = dist.version if dist is not None else None
                try:
                    module = ep.load()
                    pm.register(module, name=ep.name)
                    _guard_operation_hooks(pm, ep.name)
                    impls = [i for i in pm.hook.tether_register_drivers.get_hookimpls()
                             if i.plugin_name == ep.name]
                    classes: list[type[Driver]] = []
                    for impl in impls:  # per plugin, so one bad hook cannot hide the others
                        classes.extend(impl.function() or [])
                    for cls in classes:
                        _check_driver_class(cls)
                    kinds = _plugin_kinds(pm, ep.name)
                except Exception as exc:  # noqa: BLE001 - containment is the point
                    error = f"{type(exc).__name__}: {exc}"
                    warnings.warn(f"tether plugin {ep.name!r} ({dist_name or ep.value}) failed to load: "
                                  f"{error}", PluginLoadWarning, stacklevel=2)
                    self._plugins.append(PluginInfo(ep.name, ep.value, dist_name, dist_version, error=error))
                    if pm.get_plugin(ep.name) is not None:
                        pm.unregister(name=ep.name)  # a failed plugin wraps nothing
                    continue
                schemes: list[str] = []
                for cls in classes:
                    for scheme in cls.schemes:
                        self._by_scheme.setdefault(scheme, []).append(DriverEntry(scheme, cls, ep.name))
                        schemes.append(scheme)
                hooks = tuple(sorted({c.name for c in pm.get_hookcallers(module) or []}))
                kind_regs.extend((ep.name, k) for k in kinds)
                self._plugins.append(PluginInfo(ep.name, ep.value, dist_name, dist_version,
                                               tuple(schemes), tuple(c.__name__ for c in classes), hooks=hooks,
                                               checksums=tuple(k.name for k in kinds)))
            self._kinds = KindTable(kind_regs)
            self._pm = pm
            self._loaded = True

    @property
    def hook(self) -> pluggy.HookRelay:
        """The hook relay :mod:`tether.operations` calls."""
        self.load()
        assert self._pm is not None
        return self._pm.hook

    def checksum_kinds(self) -> KindTable:
        """Every registered checksum kind: core's and the loaded plugins' (see :mod:`tether.checksum_kinds`)."""
        kinds = self._kinds
        if kinds is None:
            self.load()
            kinds = self._kinds
            assert kinds is not None
        return kinds

    # ----------------------------------------------------------------- queries
    @property
    def plugins(self) -> list[PluginInfo]:
        """Every discovered plugin, loaded or failed."""
        self.load()
        return list(self._plugins)

    def driver_classes(self, plugin: str) -> list[type[Driver]]:
        """The driver classes ``plugin`` registered, each once."""
        self.load()
        classes = [e.driver_class for es in self._by_scheme.values() for e in es if e.plugin == plugin]
        return list(dict.fromkeys(classes))

    def declared_options(self, plugin: str) -> list[dict[str, object]]:
        """The options each driver of ``plugin`` declares (:attr:`Driver.options`), as rows."""
        return [{"scheme": cls.schemes[0], **o.describe()}
                for cls in self.driver_classes(plugin) for o in cls.declared_options or ()]

    def raw_keys(self, scheme: str) -> bool:
        """True when every loaded driver of ``scheme`` declares ``raw_keys``
        (its ``?``, ``#``, ``;`` belong to object keys, see :func:`tether.uris.redact`).
        False before this registry has loaded: it is asked while redacting, and
        redacting must not load plugins."""
        if not self._loaded:
            return False
        entries = self._by_scheme.get(scheme)
        return bool(entries) and all(getattr(e.driver_class, "raw_keys", False) for e in entries)

    def conflicts(self) -> dict[str, list[str]]:
        self.load()
        return {s: [e.plugin for e in es] for s, es in self._by_scheme.items() if len(es) > 1}

    def schemes(self) -> list[str]:
        self.load()
        return sorted(self._by_scheme)

    def has_driver(self, scheme: str) -> bool:
        self.load()
        return scheme in self._by_scheme

    def knows(self, scheme: str) -> bool:
        """True when ``scheme`` must be served by a driver: one is installed, one
        failed to load, or a known distribution serves it and the scheme is not
        one of :data:`LINK_ONLY_WITHOUT_DRIVER`. False means "record a link"."""
        self.load()
        return (scheme in self._by_scheme or self._failed_for(scheme) is not None
                or (scheme in INSTALL_HINTS and scheme not in LINK_ONLY_WITHOUT_DRIVER))

    def missing(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(distribution, schemes)`` of each known distribution not installed
        (:data:`INSTALL_HINTS`), for ``tether info`` and ``tether plugins``."""
        self.load()
        installed = {p.distribution for p in self._plugins if p.distribution}
        out: dict[str, list[str]] = {}
        for scheme, dist in INSTALL_HINTS.items():
            if dist not in installed:
                out.setdefault(dist, []).append(scheme)
        return [(d, tuple(s)) for d, s in sorted(out.items())]

    def _failed_for(self, scheme: str) -> PluginInfo | None:
        hint = INSTALL_HINTS.get(scheme)
        for p in self._plugins:
            if p.error and (p.name == scheme or (hint and p.distribution == hint)):
                return p
        return None

    def driver_for(self, scheme: str) -> Driver:
        """The driver instance serving ``scheme`` (one per scheme per process)."""
        scheme = scheme.lower()
        self.load()
        with self._lock:
            inst = self._instances.get(scheme)
            if inst is not None:
                return inst
            entry = self._select(scheme)
            inst = entry.driver_class(scheme)
            self._instances[scheme] = inst
            return inst

    def _select(self, scheme: str) -> DriverEntry:
        entries = self._by_scheme.get(scheme, [])
        if len(entries) == 1:
            return entries[0]
        if len(entries) > 1:
            env = f"TETHER_DRIVER_{scheme.upper().replace('+', '_').replace('.', '_').replace('-', '_')}"
            chosen = os.environ.get(env)
            for e in entries:
                if chosen == e.plugin:
                    return e
            names = ", ".join(repr(e.plugin) for e in entries)
            raise DriverConflictError(f"plugins {names} all serve {scheme}://; "
                                      f"choose one with {env}=<plugin name> or uninstall the others")
        failed = self._failed_for(scheme)
        if failed is not None:
            raise DriverLoadError(f"{scheme}:// is served by plugin {failed.name!r} "
                                  f"({failed.distribution or failed.module}), which failed to load: {failed.error}")
        hint = install_hint(scheme)
        if hint:
            raise DriverNotInstalledError(hint)
        broken = [p for p in self._plugins if p.error]
        extra = ""
        if broken:
            extra = "; note: plugin(s) " + ", ".join(f"{p.name!r} ({p.error})" for p in broken) + " failed to load"
        raise NoDriverError(f"no installed tether driver serves {scheme}://{extra}")


def _guard_operation_hooks(pm: pluggy.PluginManager, plugin: str) -> None:
    """Make ``plugin``'s operation hooks raise :class:`PluginError` naming it.

    An exception the plugin's own code raises becomes a ``PluginError`` (its
    cause chained); a tether error passes unchanged (deliberate: a policy
    refusal), and so does the operation's own error travelling back out
    through a wrapper's ``yield``."""
    for name in hookspecs.OPERATION_HOOKS:
        for impl in getattr(pm.hook, name).get_hookimpls():
            if impl.plugin_name == plugin and not impl.hookwrapper:
                impl.function = (_guarded_wrapper if impl.wrapper else _guarded_call)(impl.function, plugin, name)


def _plugin_error(exc: Exception, plugin: str, hook: str) -> BaseException:
    if isinstance(exc, TetherError):
        return exc
    return PluginError(f"plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}", plugin=plugin, hook=hook)


def _guarded_call(fn, plugin: str, hook: str):
    def call(*args):
        try:
            return fn(*args)
        except Exception as exc:
            raise _plugin_error(exc, plugin, hook) from exc
    return call


def _guarded_wrapper(fn, plugin: str, hook: str):
    def wrapper(*args):
        gen = fn(*args)
        try:
            request = next(gen)
        except Exception as exc:
            raise _plugin_error(exc, plugin, hook) from exc
        try:
            result = yield request
        except Exception as inner:  # noqa: BLE001 - the operation failed: the wrapper sees it, may replace it
            try:
                gen.throw(inner)
            except StopIteration as stop:
                return stop.value
            except Exception as exc:
                if exc is inner:
                    raise
                raise _plugin_error(exc, plugin, hook) from exc
            raise RuntimeError(f"plugin {plugin!r}: {hook} wrapper yielded twice") from None
        try:
            gen.send(result)
        except StopIteration as stop:
            return stop.value
        except Exception as exc:
            raise _plugin_error(exc, plugin, hook) from exc
        raise PluginError(f"plugin {plugin!r}: {hook} wrapper yielded twice", plugin=plugin, hook=hook)
    return wrapper


def _plugin_kinds(pm: pluggy.PluginManager, plugin: str) -> list[ChecksumKind]:
    """The checksum kinds ``plugin`` registers, checked: a wrong type or a
    redefined built-in makes the plugin fail to load (contained like a bad driver)."""
    out: list[ChecksumKind] = []
    for impl in pm.hook.tether_register_checksums.get_hookimpls():
        if impl.plugin_name != plugin:
            continue
        for kind in impl.function() or []:
            if not isinstance(kind, ChecksumKind):
                raise TypeError(f"{kind!r} is not a tether.checksum_kinds.ChecksumKind")
            if kind.name in _BUILTIN_NAMES:
                raise ValueError(f"checksum kind {kind.name!r} is built into tether and cannot be redefined")
            if kind.name in {k.name for k in out}:
                raise ValueError(f"checksum kind {kind.name!r} is registered twice")
            out.append(kind)
    return out


def _check_driver_class(cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Driver)):
        raise TypeError(f"{cls!r} is not a tether.driver.Driver subclass")
    if not cls.schemes:
        raise TypeError(f"driver {cls.__name__} declares no schemes")
    for s in cls.schemes:
        if not SCHEME_NAME_RE.match(s):
            raise TypeError(f"driver {cls.__name__} declares an invalid scheme {s!r}")


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


def set_registry(registry: Registry | None) -> Registry | None:
    """Swap the process registry (tests, embedding apps); returns the previous one."""
    global _registry
    with _registry_lock:
        old, _registry = _registry, registry
        return old


def _raw_key_scheme(scheme: str) -> bool:
    registry = _registry
    return registry is not None and registry.raw_keys(scheme)


uris.set_raw_key_source(_raw_key_scheme)


def get_driver(scheme: str) -> Driver:
    return get_registry().driver_for(scheme)
