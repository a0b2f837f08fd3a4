"""The plain reader agrees with the schemas: whatever it reads, marshmallow loads the same, for a
batch's items and for a single request's body alike.

Pure: no database, no HTTP. The schemas need an app context only for the settings they read.
"""

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from api.resources.movements.schemas import BatchItem, DepositSchema, PlainMovement, TransferSchema, WithdrawSchema
from ledger.enums import MAX_AMOUNT, TransactionType

ITEM = BatchItem()
BODIES = {schema.TYPE: schema() for schema in (DepositSchema, WithdrawSchema, TransferSchema)}
# Where a movement is read: as a batch item (its type and key in it) or as a body (neither).
PLACES = {"item": ITEM.schemas, "body": BODIES}
KINDS = [TransactionType.DEPOSIT, TransactionType.WITHDRAW, TransactionType.TRANSFER]
WALLET_FIELDS = ("user_id", "provider_id", "from_user_id", "to_user_id")

VALID_USER_ID = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
VALID_KEY = st.from_regex(r"[ -~]{1,255}", fullmatch=True)
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.integers(),
    st.text(max_size=300),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# Each field: values the schema takes, and values on or over its edges.
VALID = {
    "wallet": VALID_USER_ID,
    "amount": st.integers(min_value=1, max_value=MAX_AMOUNT),
    "currency": st.sampled_from(["USD", "EUR"]),
    "idempotency_key": VALID_KEY,
}
EDGES = {
    "wallet": [None, "", "a" * 65, "alice\n", "al ice", "ünïcode", "a" * 64],
    "amount": [None, 0, -1, MAX_AMOUNT + 1, True, False, 1.0, 10.5, "10", MAX_AMOUNT],
    "currency": [None, "usd", "US", "USDD", "USD\n", "", "CHF"],
    "idempotency_key": [None, "", "k" * 256, "k\n", "é", "\x7f", "k" * 255, " ~"],
}
BAD = {field: st.sampled_from(values) | ODD for field, values in EDGES.items()}
# Fields the plain reader leaves to the schema whatever their value.
OTHER = st.dictionaries(st.sampled_from(["metadata", "hold", "expires_in", *WALLET_FIELDS]), ODD, max_size=1)


@pytest.fixture(scope="module")
def app_context():
    app = Flask(__name__)
    app.config.update(HOLD_DEFAULT_EXPIRES_SECONDS=3600, HOLD_MAX_EXPIRES_SECONDS=7200)
    with app.app_context():
        yield


@st.composite
def movements(draw) -> tuple[Schema, dict]:
    """A schema, and a movement valid for it but for at most one thing: a field wrong, a field left
    out, or a field more (a body's key or type among them)."""
    kind = draw(st.sampled_from(KINDS))
    place = draw(st.sampled_from(list(PLACES)))
    schema = PLACES[place][kind]
    fields = [schema.DEBIT, schema.CREDIT, "amount"]
    fields += [name for name in ("currency", "idempotency_key") if draw(st.booleans())]
    left_out = draw(st.none() | st.sampled_from(fields))
    wrong = draw(st.none() | st.sampled_from(fields))
    movement = {"type": kind.value}
    for name in fields:
        if name != left_out:
            value = "wallet" if name in WALLET_FIELDS else name
            movement[name] = draw((BAD if name == wrong else VALID)[value])
    if place == "body":
        del movement["type"]
        movement.pop("idempotency_key", None)
        if draw(st.booleans()):
            movement |= draw(st.sampled_from([{"type": kind.value}, {"idempotency_key": "k"}]))
    return schema, movement | draw(OTHER)


def _one_of_each(schema: Schema) -> dict:
    movement = {schema.DEBIT: "alice", schema.CREDIT: "bob", "amount": 5, "currency": "USD"}
    if "type" in schema.fields:
        movement |= {"type": schema.TYPE.value, "idempotency_key": "k"}
    return movement


def _marshmallow(schema: Schema, movement: dict):
    """What marshmallow itself loads, past the schema's plain read; None where it refuses."""
    try:
        return Schema.load(schema, movement)
    except ValidationError:
        return None


def _answer(load, schema: Schema, movement: dict):
    """What ``load`` makes of ``movement`` with ``schema``: the request, or the messages refusing it."""
    try:
        return load(schema, movement)
    except ValidationError as error:
        return error.messages


@settings(max_examples=2000, deadline=None)
@given(movement=movements())
def test_what_the_plain_reader_reads_marshmallow_loads_the_same(app_context, movement) -> None:
    schema, value = movement
    read = PlainMovement(schema).read(value)
    if read is not None:
        assert _marshmallow(schema, value) == read


@settings(max_examples=500, deadline=None)
@given(movement=movements())
def test_the_schema_answers_as_marshmallow_does(app_context, movement) -> None:
    schema, value = movement
    assert _answer(type(schema).load, schema, value) == _answer(Schema.load, schema, value)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    place=st.sampled_from(list(PLACES)),
    debit=VALID_USER_ID,
    credit=VALID_USER_ID,
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT),
    currency=st.none() | st.sampled_from(["USD", "EUR"]),
    key=st.none() | VALID_KEY,
)
def test_the_common_movement_takes_the_plain_path(
    app_context, kind, place, debit, credit, amount, currency, key
) -> None:
    schema = PLACES[place][kind]
    movement = {schema.DEBIT: debit, schema.CREDIT: credit, "amount": amount}
    if place == "item":
        movement["type"] = kind.value
    if currency is not None:
        movement["currency"] = currency
    if key is not None and place == "item":
        movement["idempotency_key"] = key
    read = PlainMovement(schema).read(movement)
    if debit == credit:
        assert read is None
    else:
        assert read is not None
        assert read == _marshmallow(schema, movement)


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_with_a_type_or_a_key_is_the_schemas_to_refuse(app_context, kind) -> None:
    schema = BODIES[kind]
    for extra in ({"type": kind.value}, {"idempotency_key": "k"}):
        movement = _one_of_each(schema) | extra
        assert PlainMovement(schema).read(movement) is None
        assert set(_answer(type(schema).load, schema, movement)) == set(extra)


@pytest.mark.parametrize("kind", KINDS)
def test_an_item_of_another_type_is_not_read_as_this_one(app_context, kind) -> None:
    schema = ITEM.schemas[kind]
    other = next(k for k in KINDS if k != kind)
    assert PlainMovement(schema).read(_one_of_each(schema) | {"type": other.value}) is None


@pytest.mark.parametrize(
    ("movement", "provider"),
    [
        ({"type": "deposit", "user_id": "alice", "amount": 5}, "deposit-provider-master"),
        ({"type": "withdraw", "user_id": "alice", "amount": 5}, "withdraw-provider-master"),
    ],
)
@pytest.mark.parametrize("place", list(PLACES))
def test_a_provider_left_out_is_the_schemas_default(app_context, movement, provider, place) -> None:
    schema = PLACES[place][TransactionType(movement["type"])]
    if place == "body":
        movement = {k: v for k, v in movement.items() if k != "type"}
    read = PlainMovement(schema).read(movement)
    assert read is not None
    assert provider in (read.debit_user_id, read.credit_user_id)
    assert read == _marshmallow(schema, movement)


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("field", "value"), [(field, value) for field, values in EDGES.items() for value in values])
def test_each_edge_value_alone_agrees(app_context, place, kind, field, value) -> None:
    schema = PLACES[place][kind]
    movement = _one_of_each(schema)
    for name in [schema.DEBIT, schema.CREDIT] if field == "wallet" else [field]:
        edged = movement | {name: value}
        read = PlainMovement(schema).read(edged)
        assert read is None or read == _marshmallow(schema, edged)
