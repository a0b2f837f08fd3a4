"""The retry schedule and the meaning of each answer, as pure functions."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import settings
from webhooks.retries import DELIVERED, DISABLE, FAIL, JITTER, RETRY, parse_retry_after, retry_delay, verdict


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, DELIVERED),
        (204, DELIVERED),
        (None, RETRY),
        (500, RETRY),
        (503, RETRY),
        (429, RETRY),
        (400, FAIL),
        (404, FAIL),
        (301, FAIL),
        (410, DISABLE),
    ],
)
def test_verdict(status, expected):
    assert verdict(status) == expected


def test_default_schedule_is_the_documented_one():
    assert settings.WEBHOOK_RETRY_SCHEDULE == [5, 300, 1800, 7200, 18000, 36000, 36000]


def test_each_retry_waits_its_scheduled_delay_with_jitter_then_the_schedule_ends():
    schedule = [5.0, 300.0, 1800.0]
    rng = random.Random(7)
    for attempts, base in enumerate(schedule, start=1):
        delays = [retry_delay(attempts, schedule, rng=rng) for _ in range(200)]
        assert all(base * (1 - JITTER) <= d <= base * (1 + JITTER) for d in delays)
        assert len(set(delays)) > 1
    assert retry_delay(len(schedule) + 1, schedule) is None


def test_retry_after_is_honoured_up_to_the_longest_scheduled_delay():
    schedule = [5.0, 60.0]
    assert retry_delay(1, schedule, retry_after=30) == 30
    assert retry_delay(1, schedule, retry_after=10_000) == 60
    # A shorter Retry-After does not make us come back sooner than the schedule.
    assert retry_delay(2, schedule, retry_after=1) >= 60 * (1 - JITTER)


def test_parse_retry_after():
    now = datetime.now(UTC)
    assert parse_retry_after("120") == 120
    assert 85 <= parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True)) <= 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True)) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
