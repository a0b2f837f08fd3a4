"""``python -m workers ledger INDEX COUNT | webhooks | beat [--schedule PATH] | flower``.

Replaces itself with the Celery command of ``workers.commands``, configured from ``settings``.
"""

import argparse
import os
import sys

import settings
from workers import commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers")
    roles = parser.add_subparsers(dest="role", required=True)
    ledger = roles.add_parser("ledger", help="ledger worker INDEX of COUNT, owning its share of the partitions")
    ledger.add_argument("index", type=int)
    ledger.add_argument("count", type=int)
    roles.add_parser("webhooks", help="the webhook delivery worker")
    beat = roles.add_parser("beat", help="the scheduler (sweeper, due webhook deliveries): run exactly one")
    beat.add_argument("--schedule", default="celerybeat-schedule", help="where beat keeps its schedule state")
    roles.add_parser("flower", help="Flower, behind FLOWER_BASIC_AUTH")
    args = parser.parse_args(argv)

    try:
        if args.role == "ledger":
            command = commands.ledger_worker(args.index, args.count, settings.PARTITIONS)
        elif args.role == "webhooks":
            command = commands.webhooks_worker()
        elif args.role == "beat":
            command = commands.beat(args.schedule)
        else:
            command = commands.flower(settings.FLOWER_PORT, settings.FLOWER_ADDRESS, settings.FLOWER_BASIC_AUTH)
    except (commands.MissingCredentials, ValueError) as exc:
        print(f"python -m workers {args.role}: {exc}", file=sys.stderr)
        return 2
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
