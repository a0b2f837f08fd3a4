"""schemathesis over every operation of /openapi.json: no 500, answers as documented, and the
document neither admits what the API refuses nor refuses what it accepts.

A bounded run with a fixed seed, so a failure can be replayed. Generated wallets mostly do not
exist: those requests are 404s, which the document promises. Some rules of docs/api.md no OpenAPI
3.0 schema can say, so the cases that break them are not generated: text PostgreSQL cannot store
(NUL, unpaired surrogates: ``allow-x00`` and the UTF-8 ``codec``), metadata over 4 KiB or 32
levels, one wallet on both sides of a movement, one key on two items of a batch (``filter_case``).
Two answers are promised by the document but cannot be foreseen from it, so they are excused, by
their code, from the one check each would trip (``filter_failure``). tests/api/test_unstorable_input.py
and the others test those rules themselves.
"""

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import ServerError
from schemathesis.specs.openapi.checks import (
    RejectedPositiveData,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from api import close_app, create_app
from api.resources.movements.schemas import METADATA_MAX_BYTES, METADATA_MAX_DEPTH, deeper_than
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

SEED = 20261125
MAX_EXAMPLES = 50
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection, positive_data_acceptance]
# The body fields naming a movement's wallets: a movement needs two different ones.
WALLET_FIELDS = ("user_id", "provider_id", "from_user_id", "to_user_id")
# Documented answers a valid request may get: a well-formed cursor naming no transaction, and
# GET /ready while no worker runs (there is none in this test).
EXCUSED = {"invalid_cursor": RejectedPositiveData, "not_ready": ServerError}

# Built at import, as schemathesis needs the document to make one test per operation; it reaches
# the database only when a request comes, after the fixtures of test_api have built and emptied it.
app = create_app(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "TESTING": True,
        # The document can give a URL's shape, not whether its host resolves to public addresses.
        "WEBHOOK_ALLOW_PRIVATE": True,
        "WEBHOOK_SECRET": "whsec_" + "A" * 32,
        # Prefer: wait=N is honoured at most 0 seconds: nothing would ever decide the transaction.
        "API_MAX_WAIT_SECONDS": 0,
    }
)
config = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "allow-x00": False, "codec": "utf-8"},
    }
)
schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module", autouse=True)
def _close_the_app_engine():
    yield
    close_app(app)


def _metadata_too_large(movement: Any) -> bool:
    metadata = movement.get("metadata") if isinstance(movement, dict) else None
    if not isinstance(metadata, dict):
        return False
    return len(json.dumps(metadata, separators=(",", ":")).encode()) > METADATA_MAX_BYTES or deeper_than(
        metadata, METADATA_MAX_DEPTH
    )


def _names_a_wallet_twice(movement: Any) -> bool:
    if not isinstance(movement, dict):
        return False
    named = [repr(movement[field]) for field in WALLET_FIELDS if field in movement]
    return len(named) != len(set(named))


def _repeats_an_item_key(body: Any) -> bool:
    items = body.get("transactions") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return False
    keys = [repr(item["idempotency_key"]) for item in items if isinstance(item, dict) and "idempotency_key" in item]
    return len(keys) != len(set(keys))


@schema.hook
def filter_case(ctx, case) -> bool:
    """Metadata within bounds, not one wallet on both sides of a movement, not one key on two items."""
    body = case.body
    items = body.get("transactions") if isinstance(body, dict) else None
    movements = [body, *items] if isinstance(items, list) else [body]
    return not any(_names_a_wallet_twice(m) or _metadata_too_large(m) for m in movements) and not (
        _repeats_an_item_key(body)
    )


@schema.hook
def filter_failure(ctx, failure, case, response) -> bool:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return True
    excused = EXCUSED.get(code)
    return excused is None or not isinstance(failure, excused)


@schema.parametrize()
# The database is emptied once per operation, not per example: what one example wrote (a wallet) the
# next may find, as a client would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api(case, clean_db, clean_redis) -> None:
    case.call_and_validate(checks=CHECKS)
