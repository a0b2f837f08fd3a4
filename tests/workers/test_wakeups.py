"""Wake-ups against a real Redis: coalesced per partition, and harmless when Redis is gone."""

import base64
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from celeryconfig import ledger_queue as queue_for
from workers.tasks import wakeups
from workers.wakeups import DRAINS_RUN, WAKEUPS_PUBLISHED, wake_key

# One of this suite's test ports (8020-8029).
SILENT_PORT = 8021


@pytest.fixture
def quiet_broker(clean_redis):
    """The test Redis with no worker consuming it, so published messages stay in their lists."""
    return clean_redis


def test_burst_of_wakeups_for_one_partition_publishes_one_message(quiet_broker):
    for _ in range(200):
        wakeups.wake([3])
    assert quiet_broker.llen(queue_for(3)) == 1
    assert quiet_broker.exists(wake_key(3))


def test_each_partition_gets_its_own_message(quiet_broker):
    wakeups.wake([1, 2, 2, 5])
    wakeups.wake([5, 1])
    assert [quiet_broker.llen(queue_for(p)) for p in (1, 2, 5)] == [1, 1, 1]
    assert quiet_broker.llen(queue_for(3)) == 0


def test_released_key_lets_the_next_wakeup_through(quiet_broker):
    wakeups.wake([7])
    wakeups.release([7])  # what a drain does before its last look at the database
    wakeups.wake([7])
    wakeups.wake([7])
    assert quiet_broker.llen(queue_for(7)) == 2


def test_a_running_drain_holds_its_partitions_keys(quiet_broker):
    wakeups.hold([1, 2, 3])
    wakeups.wake([1, 2, 3])
    assert [quiet_broker.llen(queue_for(p)) for p in (1, 2, 3)] == [0, 0, 0]
    assert 0 < quiet_broker.ttl(wake_key(2)) <= wakeups.ttl


def test_sweeper_wakeup_bypasses_a_stale_key(quiet_broker):
    quiet_broker.set(wake_key(4), 1)  # left behind by a lost message
    wakeups.wake([4])
    assert quiet_broker.llen(queue_for(4)) == 0
    wakeups.wake([4], coalesce=False)
    assert quiet_broker.llen(queue_for(4)) == 1


def test_wakeup_message_is_a_drain_of_that_partition(quiet_broker):
    wakeups.wake([9])
    message = json.loads(quiet_broker.lindex(queue_for(9), 0))
    assert message["headers"]["task"] == "workers.tasks.drain"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([9], {})


def test_key_expires_so_a_lost_message_cannot_mute_a_partition_forever(quiet_broker):
    wakeups.wake([6])
    ttl = quiet_broker.ttl(wake_key(6))
    assert 0 < ttl <= wakeups.ttl


UNREACHABLE = """
import time
from workers.tasks import wakeups
started = time.monotonic()
wakeups.wake(range(16))
wakeups.wake([1])
print(time.monotonic() - started)
"""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts TCP connections and never answers: a hung or half-open Redis."""
    with socket.create_server(("127.0.0.1", SILENT_PORT)):
        yield f"redis://127.0.0.1:{SILENT_PORT}/0"


@pytest.fixture
def refused() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # closed again: nothing listens there now


@pytest.mark.parametrize("broker", ["refused", "silent_server"])
def test_wake_with_unreachable_broker_returns_quickly_without_raising(broker, request):
    env = {**os.environ, "REDIS_URL": request.getfixturevalue(broker), "BROKER_PUBLISH_TIMEOUT_SECONDS": "0.5"}
    # A hang (no socket timeout, kombu's retry loop) would hit the subprocess timeout and fail.
    done = subprocess.run([sys.executable, "-c", UNREACHABLE], env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert "left to the sweeper" in done.stderr
    # Two calls, each giving up after one 0.5 s step.
    assert float(done.stdout) < 5


PUBLISH = """
import time
from workers.tasks import wakeups
started = time.monotonic()
try:
    wakeups.publish("workers.tasks.drain", "ledger.p01", args=(1,))
except Exception as exc:
    print(type(exc).__name__, time.monotonic() - started)
"""


def test_publish_to_a_hung_broker_raises_instead_of_hanging(silent_server):
    env = {**os.environ, "REDIS_URL": silent_server, "BROKER_PUBLISH_TIMEOUT_SECONDS": "0.5"}
    done = subprocess.run([sys.executable, "-c", PUBLISH], env=env, capture_output=True, text=True, timeout=20)
    error, elapsed = done.stdout.split()
    assert error == "OperationalError", done.stderr
    assert float(elapsed) < 5


def test_counters_count_messages_sent_and_drains_started(quiet_broker):
    for _ in range(50):
        wakeups.wake([2, 3])
    wakeups.count(DRAINS_RUN)
    wakeups.release([2])
    wakeups.wake([2])
    assert int(quiet_broker.get(WAKEUPS_PUBLISHED)) == 3
    assert int(quiet_broker.get(DRAINS_RUN)) == 1
