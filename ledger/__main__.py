"""``python -m ledger verify | demo | keys create NAME | keys list | keys revoke PREFIX``.

``verify`` checks every invariant; ``demo`` adds the seed's sample users; ``keys`` manages API keys
(``make api-key``, ``make api-keys``, ``make revoke-api-key``).
"""

import argparse
import sys
from datetime import timedelta

import settings
from ledger.clients import issue_key, list_keys, revoke_key
from ledger.db import make_engine, make_session_factory
from ledger.demo import DEV_CLIENT, create_demo_users
from ledger.errors import LedgerError
from ledger.invariants import verify
from ledger.representation import timestamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check every ledger invariant; exit 1 naming offenders")
    check.add_argument(
        "--max-queued-age", type=float, metavar="SECONDS", help="also fail on rows queued longer than this"
    )
    demo = commands.add_parser("demo", help="create the seed's sample users, funded from world")
    demo.add_argument("--client", default=DEV_CLIENT, help=f"whose wallets they are (default: {DEV_CLIENT})")
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="a new key for client NAME (created if new); prints it last, once")
    create.add_argument("name")
    create.add_argument("--scopes", default="", help="comma-separated; all scopes when empty")
    create.add_argument("--rate-limit", default="", help="<n>/second, <n>/minute or <n>/hour; the default when empty")
    listing = keys.add_parser("list", help="every key: prefix, client, scopes, rate limit, created, revoked")
    listing.add_argument("--client", help="only this client's")
    revoke = keys.add_parser("revoke", help="revoke the key with this prefix (wk_xxxxxxxx)")
    revoke.add_argument("prefix")
    args = parser.parse_args(argv)

    engine = make_engine(settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        try:
            if args.command == "demo":
                created = create_demo_users(session, args.client)
                session.commit()
                print(f"demo users created: {', '.join(created) or 'none (all exist)'}")
                return 0
            if args.command == "keys":
                return _keys(session, args)
        except LedgerError as exc:
            print(f"python -m ledger {args.command}: {exc.detail}", file=sys.stderr)
            return 2
        age = timedelta(seconds=args.max_queued_age) if args.max_queued_age is not None else None
        report = verify(session, max_queued_age=age)
    if report.ok:
        print(f"ledger ok: {report.summary}")
        return 0
    for problem in report.problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"ledger NOT ok: {report.summary}", file=sys.stderr)
    return 1


def _keys(session, args: argparse.Namespace) -> int:
    if args.action == "create":
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        issued = issue_key(session, args.name, scopes, args.rate_limit.strip() or None)
        session.commit()
        if issued.client_created:
            print(f"created client {issued.client_id}")
        print(f"key {issued.prefix} for client {issued.client_id}; it is shown this once, and stored only hashed:")
        print(issued.key)
    elif args.action == "list":
        for key in list_keys(session, args.client):
            revoked = f"revoked {timestamp(key.revoked_at)}" if key.revoked_at else "active"
            print(
                f"{key.prefix}  {key.client_id}  {','.join(key.scopes)}  {key.rate_limit or 'default rate'}"
                f"  created {timestamp(key.created_at)}  {revoked}"
            )
    else:
        key = revoke_key(session, args.prefix)
        session.commit()
        print(
            f"revoked {key.prefix} of client {key.client_id}; API processes refuse it within"
            f" API_KEY_CACHE_SECONDS ({settings.API_KEY_CACHE_SECONDS:g}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
