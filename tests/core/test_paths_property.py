"""Property tests: whatever string a key or manifest holds, nothing lands outside dest."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tether import errors
from tether.localfs import part_name
from tether.paths import (MAX_DEPTH, check_logical_path, dest_path_for, fold_case, fold_unicode,
                          name_clash)
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


# --------------------------------------------------------------- issue 11: names on disk
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=90)
tree = st.lists(st.lists(st.sampled_from(["a", "A", "b", "a-b", "a.b", "\u00e9", "e\u0301", "ß", "ss"]),
                         min_size=1, max_size=4).map("/".join), max_size=8)


@settings(max_examples=300, deadline=None)
@given(tree)
def test_name_clash_finds_every_file_that_is_also_a_folder(paths: list[str]) -> None:
    expected = any(q.startswith(p + "/") for p in paths for q in paths)
    found = name_clash(paths)
    assert (found is not None) == expected
    if found:
        assert found[1].startswith(found[0] + "/")


@settings(max_examples=300, deadline=None)
@given(tree)
def test_folded_clashes_match_a_brute_force_search(paths: list[str]) -> None:
    for key in (fold_case, fold_unicode):
        def same(p: str, q: str, key=key) -> bool:
            kp, kq = key(p), key(q)
            return (p != q and kp == kq) or kq.startswith(kp + "/") or kp.startswith(kq + "/")
        expected = any(same(p, q) for p in paths for q in paths)
        assert (name_clash(paths, key) is not None) == expected


def test_sharp_s_folds_to_itself_and_capital_sharp_s_to_it() -> None:
    assert fold_case("Straße") == "straße" != fold_case("Strasse")
    assert fold_case("\u1e9e") == "ß" and fold_case("\u017f") == "s"  # ẞ and long s: simple folding
    assert fold_case("Caf\u00e9") == fold_case("CAFE\u0301") and fold_case("Caf\u00e9", unicode=False) != \
        fold_case("CAFE\u0301", unicode=False)


@settings(max_examples=400, deadline=None)
@given(names, st.text(max_size=30), st.text(max_size=30))
def test_part_names_fit_in_255_bytes_and_follow_the_logical_path(name: str, k1: str, k2: str) -> None:
    a, b = part_name(name, k1), part_name(name, k2)
    assert len(a.encode("utf-8", "surrogatepass")) <= 255 and a.startswith(".")
    assert (a == b) == (k1 == k2)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000))
def test_depth_is_bounded(depth: int) -> None:
    path = "/".join(["d"] * depth)
    if depth <= MAX_DEPTH:
        assert check_logical_path(path) == path
    else:
        try:
            check_logical_path(path)
        except errors.UnsafePathError as exc:
            assert "deep" in str(exc) or "longer than" in str(exc)
        else:
            raise AssertionError(f"{depth} levels accepted")
