"""Both stand-ins as one long-running process (the local stack's ``local-services`` component).

``python -m dagspec_local.standins --smtp-port 2526 --outbox DIR --pagerduty-port 9096
--pagerduty-dir DIR``; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import threading
from contextlib import ExitStack
from pathlib import Path

from dagspec_local.standins import pagerduty_server, smtp_server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dagspec_local.standins", description=__doc__)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--pagerduty-port", type=int, required=True)
    parser.add_argument("--pagerduty-dir", type=Path, required=True)
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ExitStack() as running:
        running.enter_context(smtp_server(args.outbox, args.smtp_port))
        _, pd_url = running.enter_context(pagerduty_server(args.pagerduty_dir, args.pagerduty_port))
        print(f"smtp on 127.0.0.1:{args.smtp_port} -> {args.outbox}", flush=True)
        print(f"pagerduty events api on {pd_url} -> {args.pagerduty_dir}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
