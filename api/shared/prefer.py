"""``Prefer: wait=N`` (RFC 7240): hold an answer until the transaction is decided, at most N seconds.

The wait polls PostgreSQL, the record of truth, one autocommit statement at a time, so a held
request costs a sleeping thread, not a database transaction. Threads are what a gunicorn worker
has fewest of: at most ``API_MAX_WAITING`` requests per process are held at once, and one more is
answered at once, as if its time had run out, without ``Preference-Applied`` (the preference is a
wish, RFC 7240 lets a server ignore it). However many clients wait, the other threads stay free
for everyone else.
"""

import threading
import time
import uuid

from flask import Flask, current_app
from sqlalchemy import Connection, text

from api.extensions.auth import client_id
from ledger.enums import TransactionStatus
from ledger.queries import transaction_json

FIRST_PAUSE_SECONDS = 0.02
MAX_PAUSE_SECONDS = 0.1
STATUS = text("SELECT status FROM transactions WHERE id = :id")


def init_wait_slots(app: Flask) -> None:
    """One semaphore per app, so per gunicorn worker process (the app is built after the fork)."""
    app.extensions["wait_slots"] = threading.BoundedSemaphore(app.config["API_MAX_WAITING"])


def wait_as_preferred(db: Connection, transaction_id: uuid.UUID, prefer: str | None) -> tuple[str | None, dict]:
    """Honour ``Prefer: wait=N`` if asked and a wait slot is free.

    Returns the transaction's JSON if it was decided within the wait (else None), and the headers
    saying the preference was applied: ``(None, {})`` when it was not asked for, or all slots were
    taken.
    """
    seconds = wait_preference(prefer)
    if seconds is None:
        return None, {}
    slots = current_app.extensions["wait_slots"]
    if not slots.acquire(blocking=False):
        return None, {}
    try:
        decided = wait_until_decided(db, transaction_id, seconds)
    finally:
        slots.release()
    return decided, preference_applied(seconds)


def wait_preference(prefer: str | None) -> int | None:
    """Seconds asked for in a Prefer header, capped at API_MAX_WAIT_SECONDS; None if not asked."""
    for preference in (prefer or "").split(","):
        name, equals, value = preference.split(";")[0].partition("=")
        if name.strip().lower() != "wait" or not equals:
            continue
        value = value.strip().strip('"').lstrip("0") or "0"
        # An unparsable preference is ignored, as RFC 7240 asks; a huge number is just "the most".
        if value.isascii() and value.isdigit():
            return min(int(value) if len(value) < 7 else 10**6, current_app.config["API_MAX_WAIT_SECONDS"])
    return None


def preference_applied(seconds: int) -> dict[str, str]:
    return {"Preference-Applied": f"wait={seconds}"}


def wait_until_decided(db: Connection, transaction_id: uuid.UUID, seconds: float) -> str | None:
    """The transaction's JSON once it is applied or rejected; None if ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    pause = FIRST_PAUSE_SECONDS
    while db.execute(STATUS, {"id": transaction_id}).scalar() == TransactionStatus.QUEUED:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(pause, remaining))
        pause = min(pause * 1.5, MAX_PAUSE_SECONDS)
    return transaction_json(db, client_id(), transaction_id)
