"""Python source that makes the local driver slow, for tests that interrupt a download.

Prepended to a ``python -c`` script: every 64 KiB part waits ``DELAY`` seconds,
so a download of a few MiB lasts long enough to be killed or interrupted."""


def slow_local_driver(delay: float) -> str:
    return f"""
import sys, time, tether, tether.fetcher
drv = tether.get_driver("file")
orig = type(drv).read_range
def slow(self, a, s, e):
    time.sleep({delay})
    return orig(self, a, s, e)
type(drv).read_range = slow
type(drv).part_size = 64 * 1024
tether.fetcher.MAX_PART_SIZE = 64 * 1024  # many small parts (read by the Downloader)
"""
