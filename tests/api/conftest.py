"""API fixtures: an app built by the factory against the test database, and its test client."""

import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api import close_app, create_app
from ledger.clients import issue_key
from tests.conftest import with_key


@pytest.fixture
def make_app(clean_db: Engine, clean_redis, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database and broker, with ``config`` on top of the settings; closed after the test."""
    apps = []

    def make(**config) -> Flask:
        overrides = {"DATABASE_URL": database_url, "REDIS_URL": os.environ["REDIS_URL"], "TESTING": True}
        apps.append(create_app(overrides | config))
        return apps[-1]

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask, api_key: str) -> FlaskClient:
    """A test client that sends the tests' API key with every request."""
    return with_key(app.test_client(), api_key)


@pytest.fixture
def make_key(session_factory: sessionmaker[Session]) -> Callable[..., str]:
    """``make_key("acme", scopes=[...], rate_limit="5/minute")``: a new key of that client (made if new)."""

    def make(client: str, scopes: list[str] | None = None, rate_limit: str | None = None) -> str:
        with session_factory() as session:
            key = issue_key(session, client, scopes, rate_limit).key
            session.commit()
        return key

    return make


@pytest.fixture
def count(engine: Engine) -> Callable[[str], int]:
    """``count("transactions")``: rows the API wrote (the opening balance's rows not included)."""

    def rows(table: str) -> int:
        where = {"transactions": " WHERE type <> 'opening'", "wallets": " WHERE acnt_type NOT IN ('system', 'holding')"}
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}{where.get(table, '')}")).scalar_one()

    return rows


@pytest.fixture
def make_wallet(client: FlaskClient) -> Callable[..., str]:
    def make(user_id: str, acnt_type: str = "user", **body) -> str:
        response = client.post("/users", json={"user_id": user_id, "acnt_type": acnt_type, **body})
        assert response.status_code == 201, response.get_json()
        return user_id

    return make
