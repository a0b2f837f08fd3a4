"""Admission of batches: while the ledger is behind, a batch is told to come back later.

A closed loop of batches can queue transactions faster than one worker applies them; every
transaction queued after them then waits behind the backlog, single requests too. So while the
oldest queued transaction is older than ``API_BATCH_MAX_QUEUE_AGE_SECONDS``, a batch is answered
503 ``ledger_behind`` with ``Retry-After``, before its body is read, and nothing is queued. Retried
with the same Idempotency-Key it is accepted once, whenever it gets in. Single requests are never
refused for it: they cannot outrun the workers, and they are the traffic the rule protects.
"""

import functools
from collections.abc import Callable

from flask import current_app

from api.extensions.database import db_connection
from api.extensions.problems import Problem
from ledger.queries import queue_age

BEHIND = "ledger_behind: the workers are behind; retry the batch after Retry-After seconds"
RETRY_AFTER_SECONDS = 1


def admitted_while_current(view: Callable) -> Callable:
    """Refuse the request (503) while the oldest queued transaction is older than the setting allows."""

    @functools.wraps(view)
    def admitted(*args, **kwargs):
        most = current_app.config["API_BATCH_MAX_QUEUE_AGE_SECONDS"]
        if most > 0:
            age = queue_age(db_connection(), current_app.config["PARTITIONS"])
            if age > most:
                raise Problem(
                    503,
                    "ledger_behind",
                    f"the oldest queued transaction has waited {age:.1f} s (at most {most:g} s before a batch"
                    f" is accepted); retry after {RETRY_AFTER_SECONDS} s",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
        return view(*args, **kwargs)

    return admitted
