"""The webhook endpoints of the API, and the SSRF guard on every URL a client can give us."""

import json

import pytest

from webhooks.models import EventType

PROBLEM = "application/problem+json"
REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "file:///etc/passwd",
]


@pytest.fixture
def strict(app) -> None:
    """Production's setting: private, loopback and metadata addresses are refused."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False


def test_register_shows_the_secret_once(client):
    created = client.post("/webhooks", json={"url": "http://127.0.0.1:8030/hooks", "description": "ops"})
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_")
    assert sorted(endpoint["events"]) == sorted(EventType)
    assert endpoint["status"] == "active"
    assert created.headers["Location"] == f"/webhooks/{endpoint['id']}"

    shown = client.get(f"/webhooks/{endpoint['id']}").get_json()
    assert "secret" not in shown
    assert shown == {key: value for key, value in endpoint.items() if key != "secret"}
    assert client.get("/webhooks").get_json() == {"webhooks": [shown]}


def test_delete_unsubscribes(client):
    endpoint = client.post("/webhooks", json={"url": "http://127.0.0.1:8030/hooks"}).get_json()
    assert client.delete(f"/webhooks/{endpoint['id']}").status_code == 204

    for answer in (
        client.get(f"/webhooks/{endpoint['id']}"),
        client.delete(f"/webhooks/{endpoint['id']}"),
        client.get(f"/webhooks/{endpoint['id']}/deliveries"),
    ):
        assert answer.status_code == 404
        assert answer.content_type == PROBLEM
        assert answer.get_json()["code"] == "webhook_endpoint_not_found"
    assert client.get("/webhooks").get_json() == {"webhooks": []}


def test_an_endpoint_without_deliveries_has_an_empty_log(client):
    endpoint = client.post("/webhooks", json={"url": "http://127.0.0.1:8030/hooks"}).get_json()
    answer = client.get(f"/webhooks/{endpoint['id']}/deliveries?limit=5")
    assert answer.get_json() == {"deliveries": [], "has_more": False}


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:8030/hooks", "events": ["transaction.created"]},
        {"url": "http://127.0.0.1:8030/hooks", "events": []},
        {"url": "http://127.0.0.1:8030/hooks", "secret": "mine"},
        {"events": ["transaction.applied"]},
    ],
)
def test_bad_registrations_are_400(client, body):
    answer = client.post("/webhooks", json=body)
    assert answer.status_code == 400
    assert answer.content_type == PROBLEM


@pytest.mark.parametrize("description", ["a\u0000b", "\ud800"])
def test_description_postgresql_cannot_store_is_refused(client, description):
    body = json.dumps({"url": "http://127.0.0.1:8030/hooks", "description": description})
    answer = client.post("/webhooks", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.content_type == PROBLEM
    assert list(answer.get_json()["errors"]) == ["description"]
    assert client.get("/webhooks").get_json() == {"webhooks": []}


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_unsafe_endpoint_urls_are_refused(client, strict, url):
    answer = client.post("/webhooks", json={"url": url})
    assert answer.status_code == 400
    assert answer.content_type == PROBLEM
    assert answer.get_json()["errors"]["url"][0].startswith("Refused")
    assert client.get("/webhooks").get_json() == {"webhooks": []}


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_unsafe_callback_urls_are_refused(client, strict, funded, url):
    funded("alice", 100)
    funded("bob")
    answer = client.post(
        "/wallets/transfer", json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1, "callback_url": url}
    )
    assert answer.status_code == 400
    assert answer.content_type == PROBLEM
    assert "callback_url" in answer.get_json()["errors"]

    batch = client.post(
        "/transactions/batch",
        json={
            "transactions": [
                {"type": "transfer", "from_user_id": "alice", "to_user_id": "bob", "amount": 1, "callback_url": url}
            ]
        },
    )
    assert batch.status_code == 400
    assert client.get("/transactions?type=transfer").get_json()["transactions"] == []


def test_a_refused_callback_url_does_not_say_what_its_host_resolves_to(client, strict, funded):
    funded("alice", 100)
    funded("bob")
    body = {"from_user_id": "alice", "to_user_id": "bob", "amount": 1, "callback_url": "http://localhost:8300/"}
    answer = client.post("/wallets/transfer", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["errors"]["callback_url"] == ["Refused: localhost resolves to a non-public address."]
    assert "127.0.0.1" not in answer.get_data(as_text=True) and "::1" not in answer.get_data(as_text=True)


def test_allowed_private_urls_are_accepted_in_development(client, funded):
    funded("alice", 100)
    funded("bob")
    answer = client.post(
        "/wallets/transfer",
        json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1, "callback_url": "http://127.0.0.1:8030/cb"},
    )
    assert answer.status_code == 202, answer.get_json()


def test_callback_url_without_a_server_secret_is_refused(app, client, funded):
    app.config["WEBHOOK_SECRET"] = ""
    funded("alice", 100)
    funded("bob")
    answer = client.post(
        "/wallets/transfer",
        json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1, "callback_url": "http://127.0.0.1:8030/cb"},
    )
    assert answer.status_code == 400
    assert "WEBHOOK_SECRET" in answer.get_json()["errors"]["callback_url"][0]
    # Without a callback_url, nothing needs signing: money still moves.
    plain = client.post("/wallets/transfer", json={"from_user_id": "alice", "to_user_id": "bob", "amount": 1})
    assert plain.status_code == 202
