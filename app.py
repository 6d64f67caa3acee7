"""GenAI Studio: `python app.py --help` for every option."""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> int:
    from studio.settings import SettingsError, load_settings

    try:
        settings = load_settings(sys.argv[1:] if argv is None else argv)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.is_tiny:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tiny profile never needs the Hub

    import tabs
    from studio.context import StudioContext

    studio = StudioContext(settings)
    if settings.device != "auto":  # an explicit device is checked before anyone connects
        try:
            studio.cache.device
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    demo = tabs.build_app(studio)
    # GPU events have their own shared limit (tabs.common.gpu_event); light CPU events
    # (tokenizing, status) may run side by side.
    demo.queue(default_concurrency_limit=max(8, settings.concurrency))
    options = tabs.launch_options(demo, studio)
    if settings.share and not options["auth"]:
        print("warning: --share without --auth: anyone with the link can use this machine.", file=sys.stderr)
    _, local_url, share_url = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    print(f"GenAI Studio running at {local_url}", flush=True)
    if share_url:
        print(f"Public link (temporary): {share_url}", flush=True)
    # Resolved after the server is up, so torch is not on the start-up path.
    print(f"profile: {settings.profile} · device: {studio.describe_device()}", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
