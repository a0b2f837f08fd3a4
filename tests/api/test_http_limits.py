"""What gunicorn hands the app, against a real gunicorn: chunked bodies and header limits.

The Flask test client cannot send these: it has no chunked transfer encoding and no header parser.
"""

import json
from collections.abc import Iterator

import pytest
import requests

PROBLEM = "application/problem+json"
SPACES = b" " * (64 * 1024)


@pytest.fixture
def api(api_server):
    server = api_server()
    for user_id in ("alice", "bob"):
        requests.post(f"{server.url}/users", json={"user_id": user_id, "acnt_type": "user"}, timeout=10)
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
    response = requests.post(
        f"{api.url}{path}", data=chunked(body, padding), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert_problem(response, 413, "body_too_large")
    assert count("transactions") == 0


@pytest.mark.parametrize(
    ("path", "body", "padding"),
    [("/wallets/transfer", TRANSFER, 0), ("/transactions/batch", BATCH, 1024 * 1024)],
)
def test_chunked_body_within_the_limit_is_read_whole(api, count, path, body, padding) -> None:
    response = requests.post(
        f"{api.url}{path}", data=chunked(body, padding), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 202, response.text[:500]
    assert count("transactions") == 1
