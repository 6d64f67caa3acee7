"""The project alone, as a user clones it: no ../shared beside it. The whole suite collects
without an error, the tests that need ../shared/reference skip with their one-line reason,
and the app itself never reads ../shared."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_ABSENT, ROOT, hub_free_env

SHARED_PATH = re.compile(r"""\.\./shared|["']shared["']""")  # "../shared/..." or ROOT.parent / "shared"


def project_files() -> list[str]:
    """What a clone holds: tracked files, plus new ones not ignored (about to be committed)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell which files a clone holds")
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("alone") / "studio"
    for name in project_files():  # no .venv, caches or outputs: they are ignored files
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert not (folder.parent / "shared").exists()
    return folder


def test_a_clone_without_shared_collects_and_skips_the_reference_tests(clone):
    # One run: collecting the whole suite reports any import-time read of ../shared as an
    # error, and `-m reference` then runs only the tests that use the reference data.
    env = hub_free_env()
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rs", "-m", "reference"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=240,
    )
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert "skipped" in summary and "passed" not in summary, output
    assert "failed" not in summary and "error" not in summary, output
    assert "browser/test_tokens.py::test_real_gpt2_shows_byte_pieces_of_chinese_characters SKIPPED" in output
    assert REFERENCE_ABSENT in output


def readers_of_shared(files) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in files if SHARED_PATH.search(path.read_text())]


def test_the_app_never_reads_shared():
    assert readers_of_shared([ROOT / "app.py", *(ROOT / "studio").rglob("*.py"), *(ROOT / "tabs").rglob("*.py")]) == []


def test_tests_reach_shared_only_through_the_fixture():
    # A test reading the path itself would fail in a clone, and `-m reference` would not find it.
    own = {ROOT / "tests" / "conftest.py", Path(__file__).resolve()}
    tests = [path for path in (ROOT / "tests").rglob("*.py") if path not in own]
    direct = [str(path.relative_to(ROOT)) for path in tests if re.search(r"\bREFERENCE\b", path.read_text())]
    assert readers_of_shared(tests) + direct == []
