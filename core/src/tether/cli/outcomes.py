"""Summaries of log, download and verify results, and when they are failures.

A link-only asset (a reference tether cannot fetch) is counted and named as
such, never as success: a version whose every asset is link-only downloads
and verifies nothing, and the command says so and exits 1, rather than
reporting "verified" on an empty folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..catalog import ArtifactVersion, Catalog
from ..transfer import DownloadResult, VerifyResult
from .errors import cli_message
from .human import human_size

#: Outcome statuses as the CLI names them.
LABELS = {"skipped": "link-only"}


def log_line(v: ArtifactVersion, cat: Catalog, aliases: Sequence[str], tags: Sequence[str]) -> str:
    """``mydata:v3: 2 asset(s), 1.5 KiB, tags t`` or ``unchanged: same as mydata:v2 (...)``."""
    applied = (f", aliases {', '.join(aliases)}" if aliases else "") + (f", tags {', '.join(tags)}" if tags else "")
    if v.is_new:
        return f"{v.ref}: {len(v.assets)} asset(s), {human_size(v.total_size)}{applied}"
    info = cat.version_info(v.name, v.version)  # the claim: an unchanged re-log reads no manifest
    return f"unchanged: same as {v.ref} ({info.asset_count} asset(s), {human_size(info.total_size)}){applied}"


def count_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {LABELS.get(s, s)}" for s, n in sorted(counts.items()))


def download_problem(result: DownloadResult, ref: str) -> str | None:
    """The final error line of a download, or None when it succeeded."""
    failed = result.with_status("failed")
    if failed:
        more = f" (and {len(failed) - 1} more, listed above)" if len(failed) > 1 else ""
        return (f"{len(failed)} of {len(result.outcomes)} file(s) of {ref} failed; "
                f"{failed[0].logical_path}: {cli_message(failed[0].error or 'failed')}{more}")
    links = result.with_status("skipped")
    if links and len(links) == len(result.outcomes):
        return (f"nothing was downloaded: {ref} holds only link-only assets ({len(links)}), references "
                "tether cannot fetch")
    return None


def verify_summary(result: VerifyResult) -> tuple[str, str | None]:
    """``("2 files checked, 1 link-only", problem or None)``."""
    links = len(result.with_status("skipped"))
    checked = len(result.outcomes) - links
    text = f"{checked} file(s) checked" + (f", {links} link-only" if links else "")
    if not checked:
        return text, "nothing was verified: every asset is a link-only reference tether cannot check"
    return text, None
