"""Per-session output folders: one per user and day, never escaping the outputs root."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from studio.outputs import safe_name, session_dir


def test_session_folders_are_per_day_and_per_session(tmp_path):
    day = dt.date(2026, 11, 23)
    a = session_dir(tmp_path, "abc123", day)
    b = session_dir(tmp_path, "zzz999", day)
    assert a != b and a.parent == b.parent == tmp_path / "2026-11-23"
    assert a.is_dir()


@given(st.text(max_size=200))
def test_any_session_or_name_stays_inside_the_root(text):
    name = safe_name(text)
    assert name and "/" not in name and "\\" not in name and ".." not in name and len(name) <= 64


def test_path_tricks_are_neutralised(tmp_path):
    folder = session_dir(tmp_path, "../../etc", dt.date(2026, 1, 1))
    assert folder.resolve().is_relative_to(tmp_path.resolve())
