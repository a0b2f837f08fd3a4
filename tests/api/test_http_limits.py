"""What gunicorn hands the app, against a real gunicorn: chunked bodies and header limits.

The Flask test client cannot send these: it has no chunked transfer encoding and no header parser.
"""

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

PROBLEM = "application/problem+json"
SPACES = b" " * (64 * 1024)


@pytest.fixture
def api(api_server):
    server = api_server()
    for user_id in ("alice", "bob"):
        server.http.post(f"{server.url}/users", json={"user_id": user_id, "acnt_type": "user"}, timeout=10)
    return server


def chunked(body: dict, padding: int) -> Iterator[bytes]:
    """``body`` as JSON, then ``padding`` bytes of spaces: valid JSON, sent without Content-Length."""
    yield json.dumps(body).encode()
    for _ in range(padding // len(SPACES)):
        yield SPACES


def assert_problem(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["code"] == code


TRANSFER = {"from_user_id": "alice", "to_user_id": "bob", "amount": 1}
BATCH = {"transactions": [{"type": "transfer", **TRANSFER}]}


@pytest.mark.parametrize(
    ("path", "body", "padding"),
    [("/wallets/transfer", TRANSFER, 10 * 1024 * 1024), ("/transactions/batch", BATCH, 3 * 1024 * 1024)],
)
def test_chunked_body_over_the_limit_is_413(api, count, path, body, padding) -> None:
    response = api.http.post(
        f"{api.url}{path}", data=chunked(body, padding), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert_problem(response, 413, "body_too_large")
    assert count("transactions") == 0


@pytest.mark.parametrize(
    ("path", "body", "padding"),
    [("/wallets/transfer", TRANSFER, 0), ("/transactions/batch", BATCH, 1024 * 1024)],
)
def test_chunked_body_within_the_limit_is_read_whole(api, count, path, body, padding) -> None:
    response = api.http.post(
        f"{api.url}{path}", data=chunked(body, padding), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 202, response.text[:500]
    assert count("transactions") == 1


@dataclass
class RawAnswer:
    status: int
    content_type: str
    body: dict


def send_raw(api, request_line: bytes, headers: list[bytes], body: bytes = b"") -> RawAnswer:
    """One request written byte for byte (an HTTP client library would refuse to send these)."""
    lines = [request_line, b"Host: 127.0.0.1", api.authorization, *headers]
    lines += [b"Content-Length: %d" % len(body), b"Connection: close"]
    with socket.create_connection((api.host, api.port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return RawAnswer(int(status_line.split()[1]), fields["Content-Type"], json.loads(content))


def deposit_with_key(api, key: bytes) -> RawAnswer:
    body = json.dumps({"user_id": "alice", "amount": 1}).encode()
    headers = [b"Content-Type: application/json", b"Idempotency-Key: " + key]
    return send_raw(api, b"POST /wallets/deposit HTTP/1.1", headers, body)


@pytest.mark.parametrize("character", [b"\x00", b"\x01", b"\x1b", b"\x7f"])
def test_control_characters_in_a_header_are_a_problem(api, count, character) -> None:
    # gunicorn refuses them before the app sees them (RFC 9110), and answers in problem+json.
    answer = deposit_with_key(api, b"key" + character + b"x")
    assert (answer.status, answer.content_type, answer.body["code"]) == (400, PROBLEM, "bad_request")
    assert count("transactions") == 0


@pytest.mark.parametrize("key", [b"k" * 256, b"k" * 10_000, b"caf\xe9", b"caf\xc3\xa9", b"a\tb"])
def test_idempotency_key_the_app_refuses(api, count, key) -> None:
    answer = deposit_with_key(api, key)
    assert (answer.status, answer.content_type, answer.body["code"]) == (400, PROBLEM, "validation_failed")
    assert list(answer.body["errors"]) == ["Idempotency-Key"]
    assert count("transactions") == 0


def test_header_line_over_16_kib_is_a_431_problem(api, count) -> None:
    answer = deposit_with_key(api, b"k" * (17 * 1024))
    assert (answer.status, answer.content_type, answer.body["code"]) == (431, PROBLEM, "header_fields_too_large")
    assert count("transactions") == 0


def test_request_line_over_8_kib_is_a_414_problem(api) -> None:
    answer = send_raw(api, b"GET /transactions?limit=" + b"1" * 9000 + b" HTTP/1.1", [])
    assert (answer.status, answer.content_type, answer.body["code"]) == (414, PROBLEM, "request_line_too_long")


def test_nul_in_a_path_is_an_unknown_wallet(api) -> None:
    for path in (b"/wallets/a%00b", b"/wallets/a%00b/transactions", b"/wallets/a%00b/statement"):
        answer = send_raw(api, b"GET " + path + b" HTTP/1.1", [])
        assert (answer.status, answer.content_type, answer.body["code"]) == (404, PROBLEM, "wallet_not_found")
