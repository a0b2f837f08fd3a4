"""The database itself refuses bad money rows, whatever code wrote them."""

import re

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from devtools.databases import migrate
from ledger.enums import AccountType, FailureCode, TransactionStatus, TransactionType, WalletStatus
from webhooks.models import DeliveryStatus, EndpointStatus, EventType


def _refused(engine: Engine, *statements: str) -> str:
    with pytest.raises((IntegrityError, DBAPIError)) as caught, engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    return str(caught.value.orig)


def test_user_balance_cannot_go_negative(clean_db: Engine) -> None:
    message = _refused(clean_db, "UPDATE wallets SET balance = -1 WHERE user_id = 'withdraw-provider-master'")
    assert "wallets_balance_not_negative" in message


def test_system_account_may_go_negative(clean_db: Engine) -> None:
    with clean_db.begin() as conn:
        assert conn.execute(text("SELECT balance FROM wallets WHERE user_id = 'world'")).scalar_one() < 0


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("amount", "0", "transactions_amount_positive"),
        ("amount", "-5", "transactions_amount_positive"),
        ("amount", "1000000000000001", "transactions_amount_positive"),
        ("status", "'lost'", "transactions_status_known"),
        ("type", "'gift'", "transactions_type_known"),
        # A domain (migration 0004), shared with wallets.currency.
        ("currency", "'usd'", "currency_iso"),
    ],
)
def test_transaction_rules(clean_db: Engine, column: str, value: str, constraint: str) -> None:
    values = {"type": "'transfer'", "status": "'queued'", "amount": "100", "currency": "'USD'", "decided_at": "NULL"}
    values[column] = value
    if column == "status":
        values["decided_at"] = "now()"
    message = _refused(
        clean_db,
        f"INSERT INTO transactions ({', '.join(values)}, client_id, debit_wallet_id, credit_wallet_id, partition)"
        f" VALUES ({', '.join(values.values())}, 'tests', 2, 3, 0)",
    )
    assert constraint in message


@pytest.mark.parametrize(
    ("columns", "constraint"),
    [
        ("'has space', 'user'", "wallets_user_id_format"),
        (f"'{'x' * 65}', 'user'", "wallets_user_id_format"),
        ("'ok-id', 'admin'", "wallets_acnt_type_known"),
    ],
)
def test_wallet_rules(clean_db: Engine, columns: str, constraint: str) -> None:
    assert constraint in _refused(
        clean_db, f"INSERT INTO wallets (client_id, user_id, acnt_type) VALUES ('tests', {columns})"
    )


ENTRY = "INSERT INTO entries (transaction_id, wallet_id, amount, balance_after) "
OPENING = "(SELECT id FROM transactions WHERE type = 'opening')"
WITHDRAW_PROVIDER = "(SELECT id FROM wallets WHERE user_id = 'withdraw-provider-master')"


def test_unbalanced_entries_are_refused(clean_db: Engine) -> None:
    message = _refused(clean_db, ENTRY + f"VALUES ({OPENING}, {WITHDRAW_PROVIDER}, 5, 5)")
    assert "entries_balanced" in message or "sum to" in message


def test_a_transaction_comes_whole_in_one_statement(clean_db: Engine) -> None:
    # Balanced over two statements is not enough: each statement must bring balanced transactions.
    message = _refused(
        clean_db,
        ENTRY + f"VALUES ({OPENING}, {WITHDRAW_PROVIDER}, 5, 5)",
        ENTRY + f"VALUES ({OPENING}, 1, -5, -5)",
    )
    assert "entries_balanced" in message


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        (f"(gen_random_uuid(), {WITHDRAW_PROVIDER}, 5, 5), (gen_random_uuid(), 1, -5, -5)", "entries_balanced"),
        (
            "('00000000-0000-0000-0000-000000000001', 1, 5, 5), ('00000000-0000-0000-0000-000000000001', 2, -5, -5)",
            "entries_transaction_exists",
        ),
        (f"({OPENING}, 9999, 5, 5), ({OPENING}, 9998, -5, -5)", "entries_wallet_exists"),
    ],
)
def test_entries_name_existing_transactions_and_wallets(clean_db: Engine, values: str, constraint: str) -> None:
    assert constraint in _refused(clean_db, ENTRY + f"VALUES {values}")


def test_a_transaction_names_a_wallet_once(clean_db: Engine) -> None:
    message = _refused(clean_db, ENTRY + f"VALUES ({OPENING}, 1, 5, 5), ({OPENING}, 1, -5, -5)")
    assert "entries_transaction_wallet" in message


def test_entries_are_append_only(clean_db: Engine) -> None:
    assert "append-only" in _refused(clean_db, "UPDATE entries SET amount = amount + 1")
    assert "append-only" in _refused(clean_db, "DELETE FROM entries")
    assert "append-only" in _refused(clean_db, "TRUNCATE entries CASCADE")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM wallets WHERE user_id = 'withdraw-provider-master'",
        "TRUNCATE wallets CASCADE",
        "UPDATE wallets SET id = DEFAULT WHERE user_id = 'withdraw-provider-master'",
        "DELETE FROM transactions",
        "TRUNCATE transactions CASCADE",
    ],
)
def test_wallets_and_transactions_are_kept(clean_db: Engine, statement: str) -> None:
    assert "never" in _refused(clean_db, statement)


@pytest.mark.parametrize(
    "change",
    [
        "status = 'rejected', failure_code = 'insufficient_funds', failure_message = 'x'",
        "decided_at = now() - interval '1 day'",
        "amount = amount + 1",
        "credit_wallet_id = (SELECT id FROM wallets WHERE user_id = 'withdraw-provider-master')",
    ],
)
def test_a_decided_transaction_stays_decided(clean_db: Engine, change: str) -> None:
    assert "stays decided" in _refused(clean_db, f"UPDATE transactions SET {change} WHERE type = 'opening'")


def test_the_queue_follows_the_transactions(clean_db: Engine) -> None:
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transactions (client_id, type, amount, currency, debit_wallet_id, credit_wallet_id,"
                " partition) VALUES ('tests', 'withdraw', 5, 'USD', 2, 3, 7)"
            )
        )
        queued = conn.execute(text("SELECT partition, amount FROM transaction_queue")).all()
        assert queued == [(7, 5)]
    assert "never edited" in _refused(clean_db, "UPDATE transaction_queue SET amount = 1")
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "UPDATE transactions SET status = 'rejected', failure_code = 'insufficient_funds',"
                " failure_message = 'test', decided_at = now() WHERE type = 'withdraw'"
            )
        )
        assert conn.execute(text("SELECT count(*) FROM transaction_queue")).scalar_one() == 0


def test_migrating_again_changes_nothing(clean_db: Engine, database_url: str) -> None:
    def snapshot() -> list:
        with clean_db.connect() as conn:
            return conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM wallets), (SELECT count(*) FROM entries),"
                    " (SELECT version_num FROM alembic_version)"
                )
            ).all()

    before = snapshot()
    migrate(database_url)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("constraint", "enum"),
    [
        ("transactions_type_known", TransactionType),
        ("transactions_status_known", TransactionStatus),
        ("transactions_failure_code_known", FailureCode),
        ("wallets_acnt_type_known", AccountType),
        ("wallets_status_known", WalletStatus),
        ("webhook_messages_event_known", EventType),
        ("webhook_messages_status_known", DeliveryStatus),
        ("webhook_endpoints_status_known", EndpointStatus),
    ],
)
def test_check_constraints_allow_exactly_the_names_the_code_uses(clean_db: Engine, constraint: str, enum) -> None:
    with clean_db.connect() as conn:
        definition = conn.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"), {"name": constraint}
        ).scalar_one()
    assert set(re.findall(r"'([^']+)'::text", definition)) == {member.value for member in enum}


TRANSACTION = (
    "INSERT INTO transactions (client_id, type, amount, currency, debit_wallet_id, credit_wallet_id, partition) "
)


@pytest.mark.parametrize(
    ("setup", "values", "constraint"),
    [
        ("", "('nobody', 'deposit', 1, 'USD', 2, 3, 0)", "transactions_client_exists"),
        ("", "('tests', 'deposit', 1, 'USD', 2, 9999, 0)", "transactions_wallets_exist"),
        (
            "INSERT INTO clients (id) VALUES ('other');"
            " INSERT INTO wallets (client_id, user_id, acnt_type) VALUES ('other', 'alice', 'user')",
            "('tests', 'deposit', 1, 'USD', 2, (SELECT id FROM wallets WHERE client_id = 'other'), 0)",
            "transactions_wallets_of_client",
        ),
    ],
)
def test_a_transaction_names_an_existing_client_and_its_own_or_the_platforms_wallets(
    clean_db: Engine, setup: str, values: str, constraint: str
) -> None:
    statements = [setup] if setup else []
    assert constraint in _refused(clean_db, *statements, TRANSACTION + f"VALUES {values}")


@pytest.mark.parametrize(
    "statement", ["DELETE FROM clients WHERE id = 'tests'", "UPDATE clients SET id = 'renamed' WHERE id = 'tests'"]
)
def test_a_client_is_never_deleted_or_renamed(clean_db: Engine, statement: str) -> None:
    assert "clients are never deleted" in _refused(clean_db, statement)
