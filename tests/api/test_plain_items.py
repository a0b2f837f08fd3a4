"""The batch's plain-item reader agrees with the schemas: whatever it reads, the schema loads the same.

Pure: no database, no HTTP. The schemas need an app context only for the settings they read.
"""

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from api.resources.movements.schemas import BatchItem, PlainItems
from ledger.enums import MAX_AMOUNT, TransactionType

ITEM = BatchItem()
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
def items(draw) -> dict:
    """Valid items but for at most one thing: a field wrong, a field left out, or a field more."""
    kind = draw(st.sampled_from(KINDS))
    schema = ITEM.schemas[kind]
    fields = [schema.DEBIT, schema.CREDIT, "amount"]
    fields += [name for name in ("currency", "idempotency_key") if draw(st.booleans())]
    left_out = draw(st.none() | st.sampled_from(fields))
    wrong = draw(st.none() | st.sampled_from(fields))
    item = {"type": kind.value}
    for name in fields:
        if name != left_out:
            value = "wallet" if name in WALLET_FIELDS else name
            item[name] = draw((BAD if name == wrong else VALID)[value])
    return item | draw(OTHER)


def _one_of_each(kind: TransactionType) -> dict:
    schema = ITEM.schemas[kind]
    return {
        "type": kind.value,
        schema.DEBIT: "alice",
        schema.CREDIT: "bob",
        "amount": 5,
        "currency": "USD",
        "idempotency_key": "k",
    }


def _load(item: dict):
    try:
        return ITEM.schemas[item["type"]].load(item)
    except ValidationError:
        return None


@settings(max_examples=1500, deadline=None)
@given(item=items())
def test_what_the_plain_reader_reads_the_schema_loads_the_same(app_context, item) -> None:
    read = PlainItems(ITEM.schemas[item["type"]]).read(item)
    if read is not None:
        assert _load(item) == read


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    debit=VALID_USER_ID,
    credit=VALID_USER_ID,
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT),
    currency=st.none() | st.sampled_from(["USD", "EUR"]),
    key=st.none() | VALID_KEY,
)
def test_the_common_item_takes_the_plain_path(app_context, kind, debit, credit, amount, currency, key) -> None:
    schema = ITEM.schemas[kind]
    item = {"type": kind.value, schema.DEBIT: debit, schema.CREDIT: credit, "amount": amount}
    if currency is not None:
        item["currency"] = currency
    if key is not None:
        item["idempotency_key"] = key
    read = PlainItems(schema).read(item)
    if debit == credit:
        assert read is None
    else:
        assert read is not None
        assert read == _load(item)


@pytest.mark.parametrize(
    ("item", "provider"),
    [
        ({"type": "deposit", "user_id": "alice", "amount": 5}, "deposit-provider-master"),
        ({"type": "withdraw", "user_id": "alice", "amount": 5}, "withdraw-provider-master"),
    ],
)
def test_a_provider_left_out_is_the_schemas_default(app_context, item, provider) -> None:
    read = PlainItems(ITEM.schemas[item["type"]]).read(item)
    assert read is not None
    assert provider in (read.debit_user_id, read.credit_user_id)
    assert read == _load(item)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("field", "value"), [(field, value) for field, values in EDGES.items() for value in values])
def test_each_edge_value_alone_agrees(app_context, kind, field, value) -> None:
    item = _one_of_each(kind)
    schema = ITEM.schemas[kind]
    for name in [schema.DEBIT, schema.CREDIT] if field == "wallet" else [field]:
        edged = item | {name: value}
        read = PlainItems(schema).read(edged)
        assert read is None or read == _load(edged)
