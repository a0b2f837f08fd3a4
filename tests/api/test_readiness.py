"""``GET /ready`` across a Redis restart: no probe fails on a connection left over from before it."""

from concurrent.futures import ThreadPoolExecutor

import requests

PROBES = 30
# Each probe waits out the one-second worker ping; side by side they take a few seconds, not 30,
# and they draw on every pooled connection at once, the stale ones included.
AT_ONCE = 6
NO_WORKER = {"workers": ["no worker answered a ping"]}


def test_probes_after_a_redis_restart_fail_only_for_want_of_workers(api_server, throwaway_redis) -> None:
    # gunicorn, so the Celery app and the API read the same REDIS_URL, as in a deployment.
    api = api_server(REDIS_URL=throwaway_redis.url)

    def probe(_: int = 0) -> dict:
        return requests.get(f"{api.url}/ready", timeout=10).json()["errors"]

    # Probes before the restart leave whatever connections the API keeps.
    assert [probe() for _ in range(3)] == [NO_WORKER] * 3

    throwaway_redis.restart()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        assert list(pool.map(probe, range(PROBES))) == [NO_WORKER] * PROBES
