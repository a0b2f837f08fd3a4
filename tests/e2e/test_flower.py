"""Flower, started against the test broker, sees the running workers and their tasks."""

import time

import requests

from workers.tasks import wakeups

DEADLINE_SECONDS = 30


def poll(check, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"Flower never showed {what}")


def test_flower_lists_the_running_workers(ledger_workers, flower):
    response = requests.get(f"{flower.url}/api/workers", params={"refresh": 1}, auth=flower.auth, timeout=15)
    assert response.status_code == 200
    assert set(ledger_workers.names) <= set(response.json())


def wait_until_flower_hears_events(flower, names: list[str]) -> None:
    """Events reach Flower only once its event queue is bound; heartbeats show when it is."""

    def alive():
        response = requests.get(f"{flower.url}/api/workers", params={"status": 1}, auth=flower.auth, timeout=5)
        status = response.json()
        return all(status.get(name) for name in names)

    poll(alive, f"{names} alive")


def test_flower_sees_workers_alive_through_events(ledger_workers, flower):
    wait_until_flower_hears_events(flower, ledger_workers.names)


def test_flower_sees_drain_tasks(ledger_workers, flower):
    wait_until_flower_hears_events(flower, ledger_workers.names)
    wakeups.wake([5])

    def drained():
        response = requests.get(
            f"{flower.url}/api/tasks", params={"taskname": "workers.tasks.drain"}, auth=flower.auth, timeout=5
        )
        return [t for t in response.json().values() if t["state"] == "SUCCESS" and t["args"] in ("[5]", "(5,)")]

    poll(drained, "a succeeded drain of partition 5")


def test_flower_api_needs_credentials(flower):
    assert requests.get(f"{flower.url}/api/workers", timeout=5).status_code == 401
    assert requests.get(f"{flower.url}/api/workers", auth=("admin", "wrong"), timeout=5).status_code == 401
