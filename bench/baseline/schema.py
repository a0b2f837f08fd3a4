"""The baseline's two tables, and its wallets mirroring the bench's (same ids, same balances)."""

from sqlalchemy import Engine, text

TABLES = """
DROP TABLE IF EXISTS baseline_history, baseline_wallets;
CREATE TABLE baseline_wallets (
    user_id    text PRIMARY KEY,
    balance    bigint NOT NULL CHECK (balance >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE baseline_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       text NOT NULL REFERENCES baseline_wallets (user_id),
    amount        bigint NOT NULL,
    balance_after bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX baseline_history_user ON baseline_history (user_id, id);
"""


def create_baseline(engine: Engine, users: list[str], balance: int, provider: str, provider_balance: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLES)
        conn.execute(
            text("INSERT INTO baseline_wallets (user_id, balance) SELECT unnest(CAST(:users AS text[])), :balance"),
            {"users": users, "balance": balance},
        )
        conn.execute(
            text("INSERT INTO baseline_wallets (user_id, balance) VALUES (:provider, :balance)"),
            {"provider": provider, "balance": provider_balance},
        )
