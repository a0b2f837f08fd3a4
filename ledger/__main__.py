"""``python -m ledger verify`` checks every invariant; ``python -m ledger demo`` adds sample users."""

import argparse
import sys
from datetime import timedelta

import settings
from ledger.db import make_engine, make_session_factory
from ledger.demo import create_demo_users
from ledger.invariants import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check every ledger invariant; exit 1 naming offenders")
    check.add_argument(
        "--max-queued-age", type=float, metavar="SECONDS", help="also fail on rows queued longer than this"
    )
    commands.add_parser("demo", help="create the seed's sample users, funded from world")
    args = parser.parse_args(argv)

    engine = make_engine(settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        if args.command == "demo":
            created = create_demo_users(session)
            session.commit()
            print(f"demo users created: {', '.join(created) or 'none (all exist)'}")
            return 0
        age = timedelta(seconds=args.max_queued_age) if args.max_queued_age is not None else None
        report = verify(session, max_queued_age=age)
    if report.ok:
        print(f"ledger ok: {report.summary}")
        return 0
    for problem in report.problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"ledger NOT ok: {report.summary}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
