"""``Prefer: wait=N`` (RFC 7240): hold an answer until the transaction is decided, at most N seconds.

The wait polls PostgreSQL, the record of truth, and gives its connection back to the pool between
polls, so a held request costs a sleeping thread, not a database connection. Threads are what a
gunicorn worker has fewest of: at most ``API_MAX_WAITING`` requests per process are held at once,
and one more is answered at once, as if its time had run out, without ``Preference-Applied``
(the preference is a wish, RFC 7240 lets a server ignore it). However many clients wait, the
other threads stay free for everyone else.
"""

import threading
import time

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.enums import TransactionStatus
from ledger.models import Transaction

FIRST_PAUSE_SECONDS = 0.02
MAX_PAUSE_SECONDS = 0.1


def init_wait_slots(app: Flask) -> None:
    """One semaphore per app, so per gunicorn worker process (the app is built after the fork)."""
    app.extensions["wait_slots"] = threading.BoundedSemaphore(app.config["API_MAX_WAITING"])


def wait_as_preferred(session: Session, transaction: Transaction, prefer: str | None) -> tuple[bool, dict[str, str]]:
    """Honour ``Prefer: wait=N`` if asked and a wait slot is free.

    Returns whether the transaction was decided within the wait, and the headers saying the
    preference was applied: ``(False, {})`` when it was not asked for, or all slots were taken.
    """
    seconds = wait_preference(prefer)
    if seconds is None:
        return False, {}
    slots = current_app.extensions["wait_slots"]
    if not slots.acquire(blocking=False):
        return False, {}
    try:
        decided = wait_until_decided(session, transaction, seconds)
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


def wait_until_decided(session: Session, transaction: Transaction, seconds: float) -> bool:
    """Refresh ``transaction`` until it is applied or rejected (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    pause = FIRST_PAUSE_SECONDS
    while transaction.status == TransactionStatus.QUEUED:
        session.commit()  # ends the read: the connection returns to the pool while this thread sleeps
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 1.5, MAX_PAUSE_SECONDS)
        if (
            session.scalar(select(Transaction.status).where(Transaction.id == transaction.id))
            != TransactionStatus.QUEUED
        ):
            session.refresh(transaction)
    session.commit()
    return True
