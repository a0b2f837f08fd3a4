"""GET /metrics: Prometheus' own parser reads it, it needs a metrics:read key, its counters move
when money moves (the API's accepted count, a ledger worker's applied count), and the age of the
oldest queued row grows while the workers are paused."""

import time
from collections.abc import Callable

import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

import settings
from tests.api.problems import assert_problem
from tests.fixtures.services import LedgerWorkers

WORKER_START_TIMEOUT = 10.0


def samples(exposition: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a text exposition, as prometheus-client's own parser reads it."""
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    ]


def value(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` carrying ``labels`` (0 when there are none yet)."""
    return sum(v for n, found, v in samples(exposition) if n == name and labels.items() <= found.items())


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    return response.get_data(as_text=True)


def scrape_workers(workers: LedgerWorkers) -> str:
    """Every ledger worker's own /metrics, one after the other (each is a Prometheus target)."""
    return "".join(_worker_metrics(url) for url in workers.metrics_urls)


def _worker_metrics(url: str) -> str:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while True:
        try:
            return requests.get(url, timeout=2).text
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_exposition_parses_and_names_every_partition(client) -> None:
    exposition = scrape(client)
    names = {name for name, _, _ in samples(exposition)}
    assert {"wallet_webhook_deliveries_pending", "wallet_webhook_deliveries_given_up"} <= names
    for gauge in ("wallet_queued_transactions", "wallet_oldest_queued_age_seconds"):
        partitions = {labels["partition"] for name, labels, _ in samples(exposition) if name == gauge}
        assert partitions == {str(p) for p in range(settings.PARTITIONS)}
    assert value(exposition, "wallet_queued_transactions") == 0


def test_metrics_need_a_key(app) -> None:
    assert_problem(app.test_client().get("/metrics"), 401, "missing_api_key")


def test_metrics_need_the_metrics_read_scope(app, make_key) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_key('acme', scopes=['wallets:read'])}"}
    problem = assert_problem(client.get("/metrics", headers=headers), 403, "insufficient_scope")
    assert "metrics:read" in problem["detail"]
    headers = {"Authorization": f"Bearer {make_key('prometheus', scopes=['metrics:read'])}"}
    assert client.get("/metrics", headers=headers).status_code == 200


def test_requests_are_counted_by_route_template_and_status(client) -> None:
    route = "/wallets/<user_id:user_id>"
    before = value(scrape(client), "wallet_http_requests_total", route=route, status="404")
    client.get("/wallets/nobody-1")
    client.get("/wallets/nobody-2")
    exposition = scrape(client)
    assert value(exposition, "wallet_http_requests_total", route=route, status="404") == before + 2
    assert not [labels for _, labels, _ in samples(exposition) if "nobody" in labels.get("route", "")]
    assert value(exposition, "wallet_http_request_duration_seconds_count", route=route) >= 2


def test_counters_move_when_a_transfer_is_applied(
    client, make_wallet, ledger_workers: LedgerWorkers, wait_until_drained: Callable[..., None]
) -> None:
    make_wallet("alice")
    make_wallet("bob")
    api_before, workers_before = scrape(client), scrape_workers(ledger_workers)
    assert client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1000}).status_code == 202
    body = {"from_user_id": "alice", "to_user_id": "bob", "amount": 400}
    assert client.post("/wallets/transfer", json=body).status_code == 202
    # More than alice holds: rejected, after the first transfer is applied.
    assert client.post("/wallets/transfer", json={**body, "amount": 5000}).status_code == 202
    wait_until_drained()
    api_after, workers_after = scrape(client), scrape_workers(ledger_workers)

    def moved(before: str, after: str, name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(api_before, api_after, "wallet_transactions_accepted_total", type="transfer") == 2
    assert moved(api_before, api_after, "wallet_transactions_accepted_total", type="deposit") == 1
    assert moved(workers_before, workers_after, "wallet_transactions_applied_total", type="transfer") == 1
    assert moved(workers_before, workers_after, "wallet_transactions_applied_total", type="deposit") == 1
    rejected = {"type": "transfer", "failure_code": "insufficient_funds"}
    assert moved(workers_before, workers_after, "wallet_transactions_rejected_total", **rejected) == 1
    assert moved(workers_before, workers_after, "wallet_transaction_apply_latency_seconds_count") == 3
    assert moved(workers_before, workers_after, "wallet_apply_batch_size_sum") == 3
    assert moved(workers_before, workers_after, "wallet_apply_batch_duration_seconds_count") >= 1
    assert moved(workers_before, workers_after, "wallet_drains_total") >= 1


def test_oldest_queued_age_grows_while_workers_are_paused(
    client, make_wallet, engine: Engine, ledger_workers: LedgerWorkers, wait_until_drained: Callable[..., None]
) -> None:
    make_wallet("alice")
    ledger_workers.pause()
    try:
        response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1000})
        assert response.status_code == 202
        with engine.connect() as conn:
            partition = str(
                conn.execute(
                    text("SELECT partition FROM transactions WHERE id = :id"), {"id": response.get_json()["id"]}
                ).scalar_one()
            )
        first = scrape(client)
        time.sleep(1.5)
        second = scrape(client)
    finally:
        ledger_workers.resume()
    assert value(first, "wallet_queued_transactions", partition=partition) == 1
    assert value(second, "wallet_queued_transactions", partition=partition) == 1
    age = value(second, "wallet_oldest_queued_age_seconds", partition=partition)
    assert age >= value(first, "wallet_oldest_queued_age_seconds", partition=partition) + 1.4
    wait_until_drained()
    drained = scrape(client)
    assert value(drained, "wallet_queued_transactions", partition=partition) == 0
    assert value(drained, "wallet_oldest_queued_age_seconds", partition=partition) == 0


def test_gunicorn_sums_its_workers_and_starts_from_nothing(api_server, tmp_path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")
    server = api_server(API_WORKERS="2", PROMETHEUS_MULTIPROC_DIR=str(directory))
    assert not (directory / "counter_1.db").exists()
    for n in range(20):
        assert server.http.get(f"{server.url}/wallets/nobody-{n}").status_code == 404
    response = server.http.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    # Whichever worker answered, the count is every worker's.
    route = "/wallets/<user_id:user_id>"
    assert value(response.text, "wallet_http_requests_total", route=route, status="404") == 20
