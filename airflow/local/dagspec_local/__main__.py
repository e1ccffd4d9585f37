"""``python -m dagspec_local up|down|status|cli <airflow args>|demo`` (with airflow/local on PYTHONPATH).

  up      migrate the metadata database, load the demo connections, generate dbt docs, start the
          local SMTP server and PagerDuty receiver, then api-server, scheduler, dag-processor and
          triggerer; wait until the API reports every component healthy; print the UI and login.
  down    stop everything ``up`` started.
  status  what runs, the UI address and login, where mail, pages and logs go (exit 1 if not all run).
  cli     the ``airflow`` command against the stack, e.g. ``cli dags list``.
  demo    ``npm run demo`` after its installs: seed, build, run the pipeline once, print the KPIs.

``gen airflow ...`` runs this. Settings: see ``dagspec_local.settings``.
"""

from __future__ import annotations

import sys

from dagspec_local.errors import LocalEnvError

USAGE = "usage: python -m dagspec_local up|down|status|cli <airflow args>|demo"


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    try:
        if command == "demo" and not args:
            from dagspec_local.demo import run_demo

            return run_demo()
        if command not in ("up", "down", "status", "cli") or (command != "cli" and args):
            print(USAGE, file=sys.stderr)
            return 2
        from dagspec_local.native import NativeStack
        from dagspec_local.settings import SETTINGS_FILE, StackSettings, stack_home

        home = stack_home()
        if command == "up":
            settings = StackSettings.from_env()
        elif command == "down" and not (home / SETTINGS_FILE).exists():
            settings = StackSettings(home=home)  # nothing was started here: down says so
        else:
            settings = StackSettings.load(home)
        stack = NativeStack(settings)
        if command == "up":
            return stack.up()
        if command == "down":
            return stack.down()
        if command == "status":
            return stack.status()
        return stack.cli(args)
    except LocalEnvError as err:
        print(f"stack: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
