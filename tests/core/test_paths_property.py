"""Property tests: whatever string a key or manifest holds, nothing lands outside dest."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tether import errors
from tether.paths import check_logical_path, dest_path_for
from tether.uris import redact

segments = st.sampled_from(["a", "..", ".", "", "b c", "C:", "\\", "x\x00y", "ü", "#?%", "/", "~"])
paths = st.one_of(st.text(max_size=60), st.lists(segments, max_size=6).map("/".join),
                  st.lists(segments, max_size=6).map("".join))


@settings(max_examples=400, deadline=None)
@given(paths)
def test_accepted_logical_paths_stay_inside_dest(tmp_path_factory, path: str) -> None:
    dest = tmp_path_factory.getbasetemp() / "dest"
    try:
        check_logical_path(path)
    except errors.UnsafePathError as exc:
        assert str(exc)  # refused with a message
        return
    target = dest_path_for(dest, path)
    root = os.path.realpath(dest)
    assert os.path.commonpath([root, os.path.realpath(target)]) == root
    assert Path(target).name == path.split("/")[-1]


@settings(max_examples=300, deadline=None)
@given(user=st.text(alphabet="abcdefgh", min_size=1, max_size=8),
       secret=st.text(alphabet="QWERTYUIOP0123456789", min_size=8, max_size=16),
       param=st.sampled_from(["X-Amz-Signature", "X-Goog-Signature", "sig", "token", "access_token", "AWSAccessKeyId"]))
def test_redaction_removes_credentials(user: str, secret: str, param: str) -> None:
    uri = f"https://{user}:{secret}@host.example/path/f.csv?a=1&{param}={secret}"
    out = redact(uri)
    assert secret not in out and "host.example/path/f.csv" in out and "a=1" in out
