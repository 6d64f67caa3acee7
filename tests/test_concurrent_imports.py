"""The first events after start-up may arrive together; their ML imports must not race.

transformers' first import from several threads at once can fail with "cannot import
name" or "partially initialized module"; every event therefore waits for one serial import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SCRIPT = textwrap.dedent(
    """
    import threading
    from tabs.common import friendly

    def top_level():
        from transformers import AutoTokenizer, AutoModelForCausalLM
        from diffusers import VQModel

    def submodules():
        from transformers.models.auto.tokenization_auto import AutoTokenizer
        from transformers.generation.streamers import TextIteratorStreamer

    errors = []
    def run(fn):
        try:
            friendly(fn)()
        except BaseException as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(f,)) for f in [top_level, submodules] * 4]
    for t in threads: t.start()
    for t in threads: t.join()
    print("ERRORS", errors)
    raise SystemExit(1 if errors else 0)
    """
)


def test_simultaneous_first_events_import_safely():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
