"""Input PostgreSQL cannot store, or that would break its readers, is a 400 problem and writes nothing.

NUL (U+0000) and unpaired surrogates (U+D800-U+DFFF) fit in JSON but not in PostgreSQL's text or
jsonb; NaN and Infinity are not JSON; metadata nested without bound breaks every recursive encoder
that later reads it.
"""

import json

import pytest

from tests.api.problems import assert_problem

MONEY_ROUTES = [
    ("/wallets/deposit", {"user_id": "alice", "amount": 1}),
    ("/wallets/withdraw", {"user_id": "alice", "amount": 1}),
    ("/wallets/transfer", {"from_user_id": "alice", "to_user_id": "bob", "amount": 1}),
]
UNSTORABLE_METADATA = [
    {"a": "\u0000"},
    {"a": "before\u0000after"},
    {"\u0000": 1},
    {"a": "\ud800"},
    {"\udfff": "x"},
    {"a": ["fine", {"b": "\udbff"}]},
]


@pytest.fixture
def wallets(make_wallet) -> None:
    make_wallet("alice")
    make_wallet("bob")


def post_json(client, path: str, body: object, headers: dict | None = None):
    """``json.dumps`` writes NUL and lone surrogates as ``\\u`` escapes, as a client would send them."""
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def nested(depth: int) -> dict:
    """An object whose value nests arrays until objects and arrays make ``depth`` levels."""
    value: list = []
    for _ in range(depth - 2):
        value = [value]
    return {"a": value}


@pytest.mark.parametrize("metadata", UNSTORABLE_METADATA)
@pytest.mark.parametrize(("path", "body"), MONEY_ROUTES)
def test_unstorable_metadata_is_refused(client, wallets, count, path, body, metadata) -> None:
    problem = assert_problem(post_json(client, path, {**body, "metadata": metadata}), 400, "validation_failed")
    assert list(problem["errors"]) == ["metadata"]
    assert count("transactions") == 0


def test_raw_utf8_surrogates_are_refused_too(client, wallets, count) -> None:
    # Python's JSON decoder lets UTF-8-encoded surrogates through (surrogatepass); PostgreSQL would not.
    body = b'{"user_id": "alice", "amount": 1, "metadata": {"a": "\xed\xa0\x80"}}'
    problem = assert_problem(
        client.post("/wallets/deposit", data=body, content_type="application/json"), 400, "validation_failed"
    )
    assert list(problem["errors"]) == ["metadata"]
    assert count("transactions") == 0


def test_one_unstorable_item_refuses_the_batch_naming_it(client, wallets, count) -> None:
    items = [
        {"type": "deposit", "user_id": "alice", "amount": 1},
        {"type": "deposit", "user_id": "alice", "amount": 1, "metadata": {"note": "\u0000"}},
        {"type": "deposit", "user_id": "alice", "amount": 1, "idempotency_key": "k\ud800"},
    ]
    response = post_json(client, "/transactions/batch", {"transactions": items})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"] == {
        "transactions": {
            "1": {"metadata": {"note": ["Must not contain NUL characters or unpaired surrogates."]}},
            "2": {"idempotency_key": ["Must not contain NUL characters or unpaired surrogates."]},
        }
    }
    assert count("transactions") == 0


def test_wallet_fields_with_nul_are_refused(client, count) -> None:
    body = {"user_id": "carol\u0000", "acnt_type": "user\u0000"}
    problem = assert_problem(post_json(client, "/users", body), 400, "validation_failed")
    assert set(problem["errors"]) == {"user_id", "acnt_type"}
    assert count("wallets") == 2


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_numbers_json_cannot_hold_are_refused(client, wallets, count, number) -> None:
    body = '{"user_id": "alice", "amount": 1, "metadata": {"a": ' + number + "}}"
    assert_problem(client.post("/wallets/deposit", data=body, content_type="application/json"), 400, "malformed_json")
    assert count("transactions") == 0


def test_metadata_may_hold_any_storable_text(client, wallets) -> None:
    metadata = {"é": "naïve 😀", "tab": "a\tb", "escaped": "\\u0000 is six characters here"}
    response = post_json(client, "/wallets/deposit", {"user_id": "alice", "amount": 1, "metadata": metadata})
    assert response.status_code == 202, response.get_json()
    assert client.get(response.headers["Location"]).get_json()["metadata"] == metadata


def deep_body(depth: int) -> str:
    """A deposit whose metadata nests ``depth`` levels, written out by hand: encoding it would
    exhaust this test's own stack."""
    arrays = "[" * (depth - 1) + "]" * (depth - 1)
    return '{"user_id": "alice", "amount": 1, "metadata": {"a": ' + arrays + "}}"


@pytest.mark.parametrize("depth", [33, 200])
def test_metadata_nested_too_deep_is_refused(client, wallets, count, depth) -> None:
    response = client.post("/wallets/deposit", data=deep_body(depth), content_type="application/json")
    problem = assert_problem(response, 400, "validation_failed")
    assert "32 levels" in problem["errors"]["metadata"][0]
    assert count("transactions") == 0


@pytest.mark.parametrize("depth", [960, 970, 2000])
def test_metadata_nested_to_the_parsers_limit_is_a_400(client, wallets, count, depth) -> None:
    # Whether the JSON parser itself gives up first depends on how deep the stack already is.
    response = client.post("/wallets/deposit", data=deep_body(depth), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] in {"validation_failed", "malformed_json"}
    assert count("transactions") == 0


def test_metadata_32_levels_deep_is_stored_and_served(client, wallets) -> None:
    response = post_json(client, "/wallets/deposit", {"user_id": "alice", "amount": 1, "metadata": nested(32)})
    assert response.status_code == 202, response.get_json()
    assert client.get("/transactions").get_json()["transactions"][0]["metadata"] == nested(32)
