"""``python -m devtools.devenv PATH``: the development environment of ``make dev``, then honcho.

Secrets stay out of the repository: they are generated on first run into a gitignored file, and
the same values are used on every later run. The real environment wins over the file, as with
dotenv and compose: a variable exported in the shell is what every process sees.

The file also holds ``WALLET_API_KEY``, a key of client ``dev`` with every scope, for the README's
walkthrough. It is made on first run, and again whenever the database does not know it (a database
dropped and made anew); the database keeps only its hash, so the file is where it lives.
"""

import base64
import os
import secrets
import sys
from pathlib import Path

from sqlalchemy.orm import Session

import settings
from ledger.clients import find_key, issue_key
from ledger.db import make_engine, make_session_factory
from ledger.demo import DEV_CLIENT

API_KEY = "WALLET_API_KEY"
# What `make dev` sets unless the file or the shell says otherwise: logs for a terminal, not for a
# pipeline (production's default is JSON, settings.LOG_FORMAT).
DEV_DEFAULTS = {"LOG_FORMAT": "text"}


def dev_env() -> dict[str, str]:
    return {
        # Standard Webhooks secret format: whsec_ + base64 of the raw key.
        "WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "FLOWER_BASIC_AUTH": "admin:" + secrets.token_urlsafe(18),
        # Local development receives webhooks on localhost; production keeps the default (refuse).
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }


def write_once(path: Path) -> bool:
    """Write ``path`` if it does not exist; True if it was written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in dev_env().items()))
    return True


def read(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines and ``#`` comments are skipped."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def ensure_api_key(path: Path, session: Session) -> bool:
    """Give ``path`` a live ``WALLET_API_KEY`` of client ``dev``; True if a new one was written."""
    current = read(path).get(API_KEY)
    if current and find_key(session, current) is not None:
        return False
    issued = issue_key(session, DEV_CLIENT)
    session.commit()
    lines = [line for line in path.read_text().splitlines() if not line.strip().startswith(f"{API_KEY}=")]
    path.write_text("".join(f"{line}\n" for line in [*lines, f"{API_KEY}={issued.key}"]))
    return True


def environment(path: Path) -> dict[str, str]:
    """The development defaults, under the file's values, under the real environment's."""
    return {**DEV_DEFAULTS, **read(path), **os.environ}


def main(argv: list[str]) -> None:
    path = Path(argv[0])
    if write_once(path):
        print(f"generated development secrets in {path} (WEBHOOK_SECRET, FLOWER_BASIC_AUTH)")
    else:
        print(f"development secrets: {path}")
    engine = make_engine(settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        made = ensure_api_key(path, session)
    engine.dispose()
    print(
        f"{'made a' if made else 'the'} development API key (client {DEV_CLIENT}, every scope): {API_KEY} in {path}."
        f" In another shell: export {API_KEY}=$(sed -n 's/^{API_KEY}=//p' {path})"
    )
    # honcho would lay its --env file over the environment; it gets an empty one and our merge.
    command = [sys.executable, "-m", "honcho", "start", "--env", os.devnull]
    os.execve(command[0], command, environment(path))


if __name__ == "__main__":
    main(sys.argv[1:])
