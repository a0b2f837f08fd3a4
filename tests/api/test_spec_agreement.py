"""The OpenAPI document admits what the API accepts and refuses what it refuses.

schemathesis (tests/api/test_schemathesis.py) explores this at random; these are the cases it
first found, pinned.
"""

import re

import pytest

URLS = [
    "",
    "0",
    "ftp://example.com/",
    "http://",
    "http://[::1]/",
    "http://[zz]/",
    "http://a..b/",
    "http://-a/",
    "http://exämple.com/",
    "http://example.com/ä",
    "http://example.com/a b",
    "http://example.com:65536/",
    "http://user@example.com/",
    "http://example.com\n",
    "http://example.com",
    "HTTPS://Example.com:8443/a/b?c=d#e",
    "http://127.0.0.1:8030/hooks",
    "http://a-b.c0/%20",
]


@pytest.fixture
def private_ok(app) -> None:
    """Only the URL's shape is the spec's to say; whether its host is public depends on DNS."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    app.config["WEBHOOK_SECRET"] = "whsec_" + "A" * 32


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def admits(schema: dict, value: str) -> bool:
    """What a JSON Schema validator says of a string (ECMA ``$`` does not match before a newline)."""
    pattern = schema["pattern"].removesuffix("$") + r"\Z"
    return schema.get("minLength", 0) <= len(value) <= schema["maxLength"] and re.search(pattern, value) is not None


@pytest.mark.parametrize("url", URLS)
def test_webhook_url_admitted_by_the_spec_iff_accepted(client, private_ok, spec, count, url) -> None:
    schema = spec["components"]["schemas"]["EndpointCreate"]["properties"]["url"]
    response = client.post("/webhooks", json={"url": url})
    assert response.status_code == (201 if admits(schema, url) else 400), response.get_json()


@pytest.mark.parametrize("url", URLS)
def test_callback_url_admitted_by_the_spec_iff_accepted(client, private_ok, make_wallet, spec, count, url) -> None:
    make_wallet("alice")
    for name in ("Deposit", "BatchDeposit"):
        schema = spec["components"]["schemas"][name]["properties"]["callback_url"]
        assert schema["minLength"] == 1
    schema = spec["components"]["schemas"]["Deposit"]["properties"]["callback_url"]
    response = client.post("/wallets/deposit", json={"user_id": "alice", "amount": 1, "callback_url": url})
    assert response.status_code == (202 if admits(schema, url) else 400), response.get_json()


@pytest.mark.parametrize("path", ["/transactions", "/wallets/{user_id}/transactions"])
def test_an_unknown_cursor_is_a_documented_400(spec, path) -> None:
    operation = spec["paths"][path]["get"]
    assert "400" in operation["responses"]
    [cursor] = [p for p in operation["parameters"] if p["name"] == "starting_after"]
    assert "invalid_cursor" in cursor["description"]


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/wallets/deposit", "post", {"404", "409", "413", "415"}),
        ("/transactions/batch", "post", {"404", "409", "413", "415"}),
        ("/wallets/{user_id}", "get", {"404"}),
        ("/wallets/{user_id}/statement", "get", {"404"}),
        ("/transactions/{transaction_id}", "get", {"404"}),
        ("/webhooks/{endpoint_id}", "delete", {"404"}),
    ],
)
def test_error_answers_are_documented_as_problems(spec, path, method, statuses) -> None:
    responses = spec["paths"][path][method]["responses"]
    assert statuses <= set(responses)
    for status in statuses:
        assert set(responses[status]["content"]) == {"application/problem+json"}
