"""``GET /ready`` across a Redis restart: no probe fails on a connection left over from before it."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from devtools.processes import Process
from tests.fixtures.services import API_PORTS, free_port

PROBES = 30
NO_WORKER = {"workers": ["no worker answered a ping"]}


class ThrowawayRedis:
    """A redis-server of this test's own, which it may kill and start again (the shared one it may not)."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.url = f"redis://127.0.0.1:{port}/0"
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = Process(command, log_dir / "redis.log")

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or not self.process.running:
                    pytest.fail(f"redis-server did not start:\n{self.process.log_tail()}")
                time.sleep(0.05)

    def restart(self) -> None:
        self.process.kill()
        self.start()


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(free_port(API_PORTS), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.process.stop()


def test_probes_after_a_redis_restart_fail_only_for_want_of_workers(api_server, throwaway_redis) -> None:
    # gunicorn, so the Celery app and the API read the same REDIS_URL, as in a deployment.
    api = api_server(REDIS_URL=throwaway_redis.url)

    def probe() -> dict:
        return requests.get(f"{api.url}/ready", timeout=10).json()["errors"]

    # Probes before the restart leave whatever connections the API keeps.
    assert [probe() for _ in range(3)] == [NO_WORKER] * 3

    throwaway_redis.restart()

    assert [probe() for _ in range(PROBES)] == [NO_WORKER] * PROBES
