"""Clients holding ``Prefer: wait`` requests cannot take the API down: other requests keep their threads."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

THREADS = 4
WAITS = 32
WAIT_SECONDS = 6


def test_held_waits_leave_threads_for_health_checks(api_server) -> None:
    # No worker runs: the transaction stays queued, so every wait would last WAIT_SECONDS.
    api = api_server(API_THREADS=str(THREADS))
    api.http.post(f"{api.url}/users", json={"user_id": "alice", "acnt_type": "user"}, timeout=10).raise_for_status()
    deposit = api.http.post(f"{api.url}/wallets/deposit", json={"user_id": "alice", "amount": 1}, timeout=10)
    location = f"{api.url}{deposit.headers['Location']}"

    def wait() -> requests.Response:
        return requests.get(location, headers={"Prefer": f"wait={WAIT_SECONDS}", **api.http.headers}, timeout=60)

    with ThreadPoolExecutor(WAITS) as pool:
        waits = [pool.submit(wait) for _ in range(WAITS)]
        time.sleep(1)  # every wait has arrived; the held ones are sleeping
        started = time.monotonic()
        health = requests.get(f"{api.url}/health", timeout=10)
        health_seconds = time.monotonic() - started
        answers = [w.result() for w in waits]

    assert health.status_code == 200
    assert health_seconds < 1.0
    assert {a.status_code for a in answers} == {200}
    held = [a for a in answers if a.headers.get("Preference-Applied") == f"wait={WAIT_SECONDS}"]
    # API_MAX_WAITING defaults to half the threads; the others were answered at once, not held.
    assert len(held) == THREADS // 2
    assert all(a.elapsed.total_seconds() >= WAIT_SECONDS for a in held)
    assert all(a.elapsed.total_seconds() < WAIT_SECONDS / 2 for a in answers if a not in held)
