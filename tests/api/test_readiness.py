"""``GET /ready`` across a Redis restart: no probe fails on a connection left over from before it."""

import requests

PROBES = 30
NO_WORKER = {"workers": ["no worker answered a ping"]}


def test_probes_after_a_redis_restart_fail_only_for_want_of_workers(api_server, throwaway_redis) -> None:
    # gunicorn, so the Celery app and the API read the same REDIS_URL, as in a deployment.
    api = api_server(REDIS_URL=throwaway_redis.url)

    def probe() -> dict:
        return requests.get(f"{api.url}/ready", timeout=10).json()["errors"]

    # Probes before the restart leave whatever connections the API keeps.
    assert [probe() for _ in range(3)] == [NO_WORKER] * 3

    throwaway_redis.restart()

    assert [probe() for _ in range(PROBES)] == [NO_WORKER] * PROBES
