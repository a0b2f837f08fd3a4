"""What a delivery attempt's outcome means, and when to try again. Pure: no database, no network."""

import random

from urllib3.exceptions import InvalidHeader
from urllib3.util import Retry

# Each delay is scaled by a random factor in [1 - JITTER, 1 + JITTER], so the retries of events
# that failed together (a receiver outage) do not all come back in the same second.
JITTER = 0.2

DELIVERED = "delivered"
RETRY = "retry"
FAIL = "fail"
# 410 Gone: the receiver says the endpoint is gone for good; stop sending it anything.
DISABLE = "disable"


def verdict(status: int | None) -> str:
    """``status`` is the HTTP status, or None when no answer came (timeout, connection error)."""
    if status is None or status == 429 or status >= 500:
        return RETRY
    if 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return DISABLE
    # Other 4xx, and 3xx (redirects are not followed): the receiver refuses this request as is.
    return FAIL


def retry_delay(
    attempts: int, schedule: list[float], retry_after: float | None = None, rng: random.Random | None = None
) -> float | None:
    """Seconds from now to the next try after ``attempts`` tries failed; None once the schedule is spent.

    A receiver's Retry-After is honoured when it asks for longer than the schedule would wait,
    but never beyond the schedule's longest delay, so one answer cannot park an event for days.
    """
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date, as urllib3 reads it); None if unreadable."""
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None
