"""``python -m studio.train.worker JOBDIR``: runs one job in its own process.

The app never imports this: a crash, an out-of-memory or a hard kill here ends this process
only. Cancel is a ``cancel`` file or SIGTERM, checked before every step; if the app that
started us goes away, we stop too and the job is marked interrupted (resumable).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

from studio.errors import StudioError
from studio import jobs


def main(folder: Path) -> int:
    parent = os.getppid()
    reason = {"why": ""}

    def on_term(*_):
        reason["why"] = "cancelled"

    signal.signal(signal.SIGTERM, on_term)

    def should_stop() -> bool:
        if (folder / "cancel").exists():
            reason["why"] = "cancelled"
        elif os.getppid() != parent:  # the app is gone: stop cleanly, resumable later
            reason["why"] = "interrupted"
        return bool(reason["why"])

    jobs.set_state(folder, "running", pid=os.getpid(), **jobs.message("loading"))
    from studio.train.loop import Stop, train  # torch is imported after the state says "running"

    try:
        result = train(folder, should_stop, int(os.environ.get("STUDIO_TRAIN_FAIL_AT_STEP") or 0))
    except Stop:
        kept = jobs.checkpoints(folder)
        said = (jobs.message("stopped_kept", why=reason["why"], checkpoint=kept[-1].name) if kept
                else jobs.message("stopped", why=reason["why"]))
        jobs.set_state(folder, reason["why"], **said)
        return 0
    except StudioError as exc:
        jobs.set_state(folder, "failed", message=str(exc))
        return 1
    except Exception as exc:  # reported on the page; the app keeps running
        traceback.print_exc()
        text = str(exc)
        if "out of memory" in text.lower():
            text = "The GPU ran out of memory: lower the batch size or cut-off length, or turn on gradient checkpointing."
        jobs.set_state(folder, "failed", **jobs.message("failed", detail=f"{type(exc).__name__}: {text[:500]}"))
        return 1
    jobs.set_state(folder, "done", **jobs.message("done", steps=result["steps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
