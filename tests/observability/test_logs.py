"""Logs a person can follow: JSON lines with the request id, and one transaction id across processes."""

import json
import logging
import logging.config
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ledger.clients import issue_key
from observability.logs import RequestIdFilter, current_request_id, logging_config, request_id
from tests.conftest import with_key
from tests.fixtures.services import ApiServer

HEADER = "X-Request-ID"


def record(message: str = "accepted 1 transaction", **context) -> logging.LogRecord:
    made = logging.LogRecord("api.shared.accept", logging.INFO, __file__, 1, message, None, None)
    made.__dict__.update(context)
    return made


def formatted(log_format: str, line: logging.LogRecord) -> str:
    """``line`` as the handler ``logging_config`` describes writes it: its filter, then its formatter."""
    config = logging_config(log_format, "INFO")
    formatter = logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["line"])
    RequestIdFilter().filter(line)
    return formatter.format(line)


# --- the request id ---------------------------------------------------------------------------


@pytest.mark.parametrize("presented", ["req-42", "a" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e", "~!@#$%^&*()"])
def test_a_well_formed_request_id_is_kept(presented: str) -> None:
    assert request_id(presented) == presented


@pytest.mark.parametrize("presented", [None, "", "a" * 129, "two words", "caf\u00e9", "line\nbreak", "tab\there"])
def test_anything_else_is_replaced_by_a_fresh_one(presented: str | None) -> None:
    fresh = request_id(presented)
    assert fresh != presented and len(fresh) == 32 and int(fresh, 16) >= 0
    assert request_id(presented) != fresh


# --- the line ---------------------------------------------------------------------------------


def test_a_json_line_has_level_logger_message_time_and_its_context() -> None:
    token = current_request_id.set("req-1")
    try:
        line = formatted("json", record(event="accepted", transaction_ids=["t-1"]))
    finally:
        current_request_id.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "INFO" and parsed["logger"] == "api.shared.accept"
    assert parsed["message"] == "accepted 1 transaction"
    assert parsed["request_id"] == "req-1" and parsed["transaction_ids"] == ["t-1"]
    assert parsed["time"].endswith("+00:00")


def test_a_traceback_stays_inside_its_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = record("unexpected error")
        line.exc_info = sys.exc_info()
    parsed = json.loads(formatted("json", line))
    assert "ValueError: boom" in parsed["exc_info"]


def test_outside_a_request_a_line_has_no_request_id() -> None:
    assert "request_id" not in json.loads(formatted("json", record()))


def test_the_text_format_keeps_the_context_greppable() -> None:
    token = current_request_id.set("req-2")
    try:
        line = formatted("text", record(transaction_ids=["t-9"]))
    finally:
        current_request_id.reset(token)
    assert line.endswith("INFO api.shared.accept: accepted 1 transaction transaction_ids=['t-9'] request_id=req-2")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("xml", "INFO")


# --- the API: every answer carries the id -----------------------------------------------------


def test_every_answer_carries_the_request_id(app, client, session_factory: sessionmaker[Session]) -> None:
    anonymous = app.test_client()
    with session_factory() as session:
        slow = issue_key(session, "slow", rate_limit="1/minute").key
        session.commit()
    limited = with_key(app.test_client(), slow)
    assert limited.get("/transactions", headers={HEADER: "warm-up"}).status_code == 200
    answers = {
        200: client.get("/health", headers={HEADER: "r-200"}),
        401: anonymous.post("/wallets/deposit", json={}, headers={HEADER: "r-401"}),
        404: client.get("/transactions/0f8fad5b-d9cb-469f-a165-70867728950e", headers={HEADER: "r-404"}),
        400: client.post("/wallets/deposit", json={"amount": -1}, headers={HEADER: "r-400"}),
        429: limited.get("/transactions", headers={HEADER: "r-429"}),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, answer.get_json()
        assert answer.headers[HEADER] == f"r-{status}"
    assert answers[404].mimetype == "application/problem+json"


def test_a_malformed_request_id_is_not_echoed(client) -> None:
    answer = client.get("/health", headers={HEADER: "x" * 129})
    assert len(answer.headers[HEADER]) == 32
    assert client.get("/health").headers[HEADER] != answer.headers[HEADER]


def test_the_accepted_line_carries_the_request_id_and_the_ids(client, caplog: pytest.LogCaptureFixture) -> None:
    assert client.post("/users", json={"user_id": "alice", "acnt_type": "user"}).status_code == 201
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="api.shared.accept"):
        answer = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 5}, headers={HEADER: "req-acc"})
    assert answer.status_code == 202
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "accepted"]
    assert line.request_id == "req-acc"
    assert line.transaction_ids == [answer.get_json()["id"]]
    assert current_request_id.get() is None


# --- the whole life of a transaction, from real processes' output -----------------------------


def json_lines(path: Path) -> list[dict]:
    """Every line of a process's output, each of which must be one JSON object."""
    lines = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}:{number} is not JSON: {text!r}")
    return lines


def wait_for_line(path: Path, predicate, what: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in json_lines(path) if predicate(line)] if path.exists() else []
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no {what} line in {path.name} within {timeout:g}s")


def test_one_transaction_id_greps_its_whole_life_in_json(
    api_server, ledger_workers, webhooks_worker, beat, receiver
) -> None:
    # Beat too: a drain nudges delivery at most once a second, and beat's poll delivers the rest.
    server: ApiServer = api_server(LOG_FORMAT="json", WEBHOOK_ALLOW_PRIVATE="true")
    http = server.http
    assert http.post(f"{server.url}/users", json={"user_id": "alice", "acnt_type": "user"}).status_code == 201
    assert http.post(f"{server.url}/users", json={"user_id": "bob", "acnt_type": "user"}).status_code == 201
    hook = receiver.url("hook")
    deposit = http.post(
        f"{server.url}/wallets/deposit",
        json={"user_id": "alice", "amount": 1000, "callback_url": hook},
        headers={HEADER: "req-deposit", "Prefer": "wait=20"},
    )
    overdraw = http.post(
        f"{server.url}/wallets/transfer",
        json={"from_user_id": "alice", "to_user_id": "bob", "amount": 5000, "callback_url": hook},
        headers={HEADER: "req-overdraw", "Prefer": "wait=20"},
    )
    assert deposit.headers[HEADER] == "req-deposit" and overdraw.headers[HEADER] == "req-overdraw"
    applied, rejected = deposit.json()["id"], overdraw.json()["id"]
    assert (deposit.json()["status"], overdraw.json()["status"]) == ("applied", "rejected")

    webhooks_log = webhooks_worker.process.log_path
    for transaction_id in (applied, rejected):
        wait_for_line(
            webhooks_log,
            lambda line, t=transaction_id: line.get("event") == "webhook_attempt" and line["transaction_id"] == t,
            f"webhook attempt of {transaction_id}",
        )
    api_lines = json_lines(server.process.log_path)
    ledger_lines = [line for process in ledger_workers.processes for line in json_lines(process.log_path)]
    webhook_lines = json_lines(webhooks_log)

    accepted = {line["request_id"]: line for line in api_lines if line.get("event") == "accepted"}
    assert accepted["req-deposit"]["transaction_ids"] == [applied]
    assert accepted["req-overdraw"]["transaction_ids"] == [rejected]
    assert all({"level", "logger", "message", "time"} <= set(line) for line in api_lines + ledger_lines)

    batches = [line for line in ledger_lines if line.get("event") == "batch"]
    assert any(applied in line["applied_ids"] for line in batches)
    [rejection] = [r for line in batches for r in line["rejections"] if r["transaction_id"] == rejected]
    assert rejection["failure_code"] == "insufficient_funds"
    for line in batches:
        assert line["batch_size"] == line["applied"] + line["rejected"] and line["duration_ms"] >= 0

    attempts = {line["transaction_id"]: line for line in webhook_lines if line.get("event") == "webhook_attempt"}
    assert attempts[applied]["event_type"] == "transaction.applied"
    assert attempts[rejected]["event_type"] == "transaction.rejected"
    for line in attempts.values():
        assert (line["outcome"], line["status_code"], line["attempt"]) == ("delivered", 200, 1)
        assert line["delivery_id"]

    # grep: the id's lines, across the three processes, tell its life in order.
    for transaction_id in (applied, rejected):
        events = [
            line.get("event")
            for line in api_lines + ledger_lines + webhook_lines
            if transaction_id in json.dumps(line) and line.get("event")
        ]
        assert events == ["accepted", "batch", "webhook_attempt"], events
