"""``gunicorn -c api/gunicorn_conf.py bench.baseline.app:app``: the synchronous design, one commit per request.

Rows are locked in user_id order (the Go service locked debit then credit, which can deadlock two
opposite transfers; a yardstick that deadlocks would flatter the queue).
"""

import threading

from flask import Flask, jsonify, request
from psycopg2.pool import ThreadedConnectionPool

import settings
from ledger.db import normalize_url

DEPOSIT_PROVIDER = "deposit-provider-master"
LOCK = "SELECT user_id, balance FROM baseline_wallets WHERE user_id IN (%s, %s) ORDER BY user_id FOR UPDATE"
UPDATE = "UPDATE baseline_wallets SET balance = %s, updated_at = now() WHERE user_id = %s"
HISTORY = "INSERT INTO baseline_history (user_id, amount, balance_after) VALUES (%s, %s, %s), (%s, %s, %s)"

app = Flask(__name__)
_pool: ThreadedConnectionPool | None = None
_lock = threading.Lock()


def pool() -> ThreadedConnectionPool:
    global _pool
    with _lock:
        if _pool is None:
            url = normalize_url(settings.DATABASE_URL).set(drivername="postgresql")
            # minconn = maxconn: psycopg2's pool closes a returned connection beyond minconn, and a
            # connection per request would make the yardstick slower than the design it stands for.
            threads = settings.API_THREADS
            _pool = ThreadedConnectionPool(threads, threads, url.render_as_string(hide_password=False))
        return _pool


def move(payer: str, payee: str, amount: int):
    connection = pool().getconn()
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(LOCK, (payer, payee))
            balances = dict(cursor.fetchall())
            if len(balances) != 2:
                return jsonify({"error": "wallet not found"}), 404
            if balances[payer] < amount:
                return jsonify({"error": "insufficient funds"}), 400
            payer_after, payee_after = balances[payer] - amount, balances[payee] + amount
            cursor.execute(UPDATE, (payer_after, payer))
            cursor.execute(UPDATE, (payee_after, payee))
            cursor.execute(HISTORY, (payer, -amount, payer_after, payee, amount, payee_after))
        return jsonify({"from_user_id": payer, "to_user_id": payee, "amount": amount, "status": "applied"}), 200
    finally:
        pool().putconn(connection)


def _amount(body: dict) -> int | None:
    amount = body.get("amount")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0 else None


@app.post("/wallets/transfer")
def transfer():
    body = request.get_json()
    amount = _amount(body)
    if amount is None or body.get("from_user_id") == body.get("to_user_id"):
        return jsonify({"error": "bad request"}), 400
    return move(body["from_user_id"], body["to_user_id"], amount)


@app.post("/wallets/deposit")
def deposit():
    body = request.get_json()
    amount = _amount(body)
    if amount is None:
        return jsonify({"error": "bad request"}), 400
    return move(body.get("provider_id", DEPOSIT_PROVIDER), body["user_id"], amount)


@app.get("/wallets/<user_id>")
def wallet(user_id: str):
    connection = pool().getconn()
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT user_id, balance, updated_at FROM baseline_wallets WHERE user_id = %s", (user_id,))
            row = cursor.fetchone()
    finally:
        pool().putconn(connection)
    if row is None:
        return jsonify({"error": "wallet not found"}), 404
    return jsonify({"user_id": row[0], "balance": row[1], "updated_at": row[2].isoformat()})


@app.get("/health")
def health():
    return jsonify({"status": "ok"})
