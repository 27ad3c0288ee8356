"""Retention: which versions to keep, and deleting the rest.

A version is kept when any rule keeps it (restic's ``forget`` semantics): one
of the ``keep_last`` newest, aliased (``keep_aliased``), tagged
(``keep_tagged``), created less than ``keep_younger_than`` ago, or used or
produced by a run active less than ``keep_used_by_runs_younger_than`` ago.
Everything else is deleted (:mod:`.tombstones`), its bytes left for ``gc``.
A policy must name at least one of the count / age / runs rules, so no
policy deletes every unaliased version by omission. An aliased version is
never deleted whatever the policy says (deletion refuses it): with
``keep_aliased=False`` it is reported as ``blocked``, naming the alias.

Policies can be stored in the catalog and applied by ``tether retain --all``::

    policies/catalog.json             the default for every artifact (tether.retention/1)
    policies/artifacts/<name>.json    one artifact's own policy

The runs rule asks a *provider*: a callable ``(name, since) -> versions of
name used or produced by runs active since then``. The default reads the
catalog's run records (``catalog.runs()`` / ``catalog.run(id)``) when this
tether has them, and otherwise refuses the rule rather than keep nothing by it.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..artifact import check_name
from ..errors import InvalidArgumentError, ManifestError, ObjectNotFoundError
from .claims import load_json
from .lifecycle import parse_duration
from .tombstones import delete_numbers, parse_time

if TYPE_CHECKING:
    from .core import Catalog

RunsProvider = Callable[[str, _dt.datetime], Iterable[int]]
POLICY_SCHEMA = "tether.retention/1"


def _fmt(seconds: float) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@attrs.frozen
class RetentionPolicy:
    """What to keep; durations in seconds (:meth:`build` parses ``"30d"``)."""

    keep_last: int | None = None
    keep_aliased: bool = True
    keep_tagged: bool = True
    keep_younger_than: float | None = None
    keep_used_by_runs_younger_than: float | None = None

    @classmethod
    def build(cls, keep_last: int | None = None, keep_aliased: bool = True, keep_tagged: bool = True,
              keep_younger_than: Any = None, keep_used_by_runs_younger_than: Any = None) -> RetentionPolicy:
        if keep_last is not None and (not isinstance(keep_last, int) or isinstance(keep_last, bool)
                                      or keep_last < 0):
            raise InvalidArgumentError(f"keep_last must be a whole number >= 0, not {keep_last!r}")
        for flag, value in (("keep_aliased", keep_aliased), ("keep_tagged", keep_tagged)):
            if not isinstance(value, bool):
                raise InvalidArgumentError(f"{flag} must be True or False, not {value!r}")
        policy = cls(keep_last, keep_aliased, keep_tagged,
                     None if keep_younger_than is None else parse_duration(keep_younger_than, "keep_younger_than"),
                     None if keep_used_by_runs_younger_than is None else
                     parse_duration(keep_used_by_runs_younger_than, "keep_used_by_runs_younger_than"))
        if policy.keep_last is None and policy.keep_younger_than is None \
                and policy.keep_used_by_runs_younger_than is None:
            raise InvalidArgumentError("a retention policy needs keep_last, keep_younger_than or "
                                       "keep_used_by_runs_younger_than: without one it would delete every "
                                       "unaliased, untagged version")
        return policy

    def describe(self) -> str:
        parts = []
        if self.keep_last is not None:
            parts.append(f"keep-last {self.keep_last}")
        if self.keep_younger_than is not None:
            parts.append(f"keep-younger-than {_fmt(self.keep_younger_than)}")
        if self.keep_used_by_runs_younger_than is not None:
            parts.append(f"keep-used-by-runs-younger-than {_fmt(self.keep_used_by_runs_younger_than)}")
        parts.append("keep-aliased" if self.keep_aliased else "no-keep-aliased")
        parts.append("keep-tagged" if self.keep_tagged else "no-keep-tagged")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": POLICY_SCHEMA, **attrs.asdict(self)}

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> RetentionPolicy:
        if not isinstance(doc, dict) or doc.get("schema") != POLICY_SCHEMA:
            raise ManifestError(f"{where} is not a {POLICY_SCHEMA} document")
        try:
            return cls.build(doc.get("keep_last"), doc.get("keep_aliased", True), doc.get("keep_tagged", True),
                             doc.get("keep_younger_than"), doc.get("keep_used_by_runs_younger_than"))
        except InvalidArgumentError as exc:
            raise ManifestError(f"{where}: {exc}") from None


@attrs.frozen
class Decision:
    version: int
    created_at: str
    action: str  # keep | delete | blocked
    reasons: tuple[str, ...] = ()


@attrs.frozen
class RetentionResult:
    name: str
    policy: RetentionPolicy
    dry_run: bool
    decisions: tuple[Decision, ...]

    def with_action(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]

    @property
    def deleted(self) -> list[int]:
        """Versions deleted (or, in a dry run, that would be)."""
        return [d.version for d in self.with_action("delete")]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dry_run": self.dry_run, "policy": self.policy.describe(),
                "delete": self.deleted, "keep": [d.version for d in self.with_action("keep")],
                "blocked": [d.version for d in self.with_action("blocked")],
                "decisions": [attrs.asdict(d) for d in self.decisions]}


# ------------------------------------------------------------------- runs
def catalog_runs(cat: Catalog) -> RunsProvider:
    """The default runs provider: the catalog's own run records, if this tether has them."""
    runs, run = getattr(cat, "runs", None), getattr(cat, "run", None)
    if not callable(runs) or not callable(run):
        raise InvalidArgumentError("keep_used_by_runs_younger_than needs run records, which this catalog "
                                   "cannot read; pass runs=<callable (name, since) -> versions>")

    def provider(name: str, since: _dt.datetime) -> set[int]:
        out: set[int] = set()
        for info in runs(limit=None):
            last = max((t for t in (parse_time(getattr(info, k, None)) for k in
                                    ("started_at", "heartbeat_at", "ended_at")) if t is not None), default=None)
            if last is None or last < since:
                continue
            full = run(info.id)
            for edge in (*(getattr(full, "inputs", None) or ()), *(getattr(full, "outputs", None) or ())):
                if edge.name == name:
                    out.add(int(edge.version))
        return out

    return provider


# ------------------------------------------------------------------ deciding
def plan(cat: Catalog, name: str, policy: RetentionPolicy, runs: RunsProvider | None = None,
         now: _dt.datetime | None = None) -> list[Decision]:
    now = now or _dt.datetime.now(_dt.UTC)
    infos = cat.versions(name)
    by_alias: dict[int, list[str]] = {}
    for a, n in cat.aliases(name).items():
        by_alias.setdefault(n, []).append(a)
    newest = {i.version for i in sorted(infos, key=lambda i: i.version)[-policy.keep_last:]} \
        if policy.keep_last else set()
    used: set[int] = set()
    if policy.keep_used_by_runs_younger_than is not None:
        since = now - _dt.timedelta(seconds=policy.keep_used_by_runs_younger_than)
        used = {int(v) for v in (runs or catalog_runs(cat))(name, since)}
    out = []
    for info in infos:
        n, reasons = info.version, []
        if n in newest:
            reasons.append(f"one of the last {policy.keep_last}")
        if n in by_alias and policy.keep_aliased:
            reasons.append(f"aliased ({', '.join(sorted(by_alias[n]))})")
        if policy.keep_tagged:
            tags = cat.tags(name, n)
            if tags:
                reasons.append(f"tagged ({', '.join(tags)})")
        created = parse_time(info.created_at)
        if policy.keep_younger_than is not None and (
                created is None or now - created < _dt.timedelta(seconds=policy.keep_younger_than)):
            reasons.append(f"younger than {_fmt(policy.keep_younger_than)}" if created else "no creation time")
        if n in used:
            reasons.append("used or produced by a recent run")
        if reasons:
            out.append(Decision(n, info.created_at, "keep", tuple(reasons)))
        elif n in by_alias:
            out.append(Decision(n, info.created_at, "blocked", (
                f"alias {', '.join(sorted(by_alias[n]))} points at it: move or remove it to let it go",)))
        else:
            out.append(Decision(n, info.created_at, "delete"))
    return out


def retain(cat: Catalog, name: str, policy: RetentionPolicy, *, dry_run: bool = True,
           runs: RunsProvider | None = None) -> RetentionResult:
    check_name(name)
    decisions = plan(cat, name, policy, runs)
    result = RetentionResult(name, policy, dry_run, tuple(decisions))
    if not dry_run and result.deleted:
        delete_numbers(cat, name, result.deleted, f"retention: {policy.describe()}")
    return result


# ------------------------------------------------------------------ storing
def _policy_uri(cat: Catalog, name: str | None) -> str:
    return cat._uri("policies", "catalog.json") if name is None else \
        cat._uri("policies", "artifacts", f"{check_name(name)}.json")


def save_policy(cat: Catalog, name: str | None, policy: RetentionPolicy) -> None:
    if not isinstance(policy, RetentionPolicy):
        raise InvalidArgumentError("policy must be a RetentionPolicy (RetentionPolicy.build(...))")
    cat._driver.write_bytes(_policy_uri(cat, name), json.dumps(policy.to_dict(), indent=1).encode())


def load_policy(cat: Catalog, name: str | None) -> RetentionPolicy | None:
    uri = _policy_uri(cat, name)
    try:
        raw = cat._driver.read_bytes(uri)
    except ObjectNotFoundError:
        return None
    where = "the catalog's retention policy" if name is None else f"retention policy of {name!r}"
    return RetentionPolicy.from_dict(load_json(raw, where), where)


def remove_policy(cat: Catalog, name: str | None) -> None:
    if load_policy(cat, name) is None:
        raise InvalidArgumentError("no retention policy stored for " + ("the catalog" if name is None else
                                                                        repr(name)))
    cat._driver.delete(_policy_uri(cat, name))


def stored_policy(cat: Catalog, name: str) -> RetentionPolicy:
    policy = load_policy(cat, name) or load_policy(cat, None)
    if policy is None:
        raise InvalidArgumentError(f"no retention rule given and no policy stored for {name!r} or the catalog "
                                   "(give keep_last / keep_younger_than, or store one with "
                                   "set_retention_policy / `tether policy set`)")
    return policy


def retain_all(cat: Catalog, *, dry_run: bool = True, runs: RunsProvider | None = None) -> list[RetentionResult]:
    default = load_policy(cat, None)
    out = []
    for name in cat.artifacts():
        policy = load_policy(cat, name) or default
        if policy is not None:
            out.append(retain(cat, name, policy, dry_run=dry_run, runs=runs))
    return out
