"""Clients and their API keys: who may call the API, and with what scopes.

A key is ``wk_`` + 8 characters (its prefix, public, stored as is) + ``_`` + 43 characters of
base64url (256 random bits). Only the key's SHA-256 is stored: a listing or a stolen database
shows prefixes, never a key. A key is checked by finding its row by prefix, then comparing
hashes in constant time. Callers commit.
"""

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from ledger.db import Prepared
from ledger.enums import PLATFORM_CLIENT, Scope
from ledger.errors import InvalidRequest, NotFound

KEY_PATTERN = re.compile(r"(wk_[a-z0-9]{8})_[A-Za-z0-9_-]{43}")
CLIENT_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
RATE_LIMIT_PATTERN = re.compile(r"[1-9][0-9]{0,8}/(second|minute|hour)")
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32

BY_PREFIX = Prepared(
    "ledger_api_key",
    ("text",),
    "SELECT id, client_id, prefix, hash, scopes, rate_limit, created_at, revoked_at FROM api_keys WHERE prefix = $1",
)


class KeyNotFound(NotFound):
    code = "api_key_not_found"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"no API key with prefix {prefix!r}")


@dataclass(frozen=True)
class ApiKey:
    id: int
    client_id: str
    prefix: str
    hash: str
    scopes: tuple[str, ...]
    rate_limit: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key`` is shown this once and never stored."""

    client_id: str
    key: str
    prefix: str
    client_created: bool


def issue_key(
    session: Session, client_id: str, scopes: list[str] | None = None, rate_limit: str | None = None
) -> IssuedKey:
    """A new key for ``client_id`` (created if new), with every scope unless ``scopes`` names some."""
    if client_id == PLATFORM_CLIENT:
        raise InvalidRequest("invalid_client", "the platform owns the ledger's own wallets and holds no keys")
    if not CLIENT_PATTERN.fullmatch(client_id):
        raise InvalidRequest("invalid_client", "a client name is 1-63 of a-z 0-9 . _ -, from a letter or digit")
    scopes = sorted(set(scopes)) if scopes else sorted(Scope)
    unknown = set(scopes) - set(Scope)
    if unknown:
        raise InvalidRequest("invalid_scope", f"unknown scopes {sorted(unknown)}; known: {', '.join(Scope)}")
    if rate_limit is not None and not RATE_LIMIT_PATTERN.fullmatch(rate_limit):
        raise InvalidRequest("invalid_rate_limit", "a rate limit is <n>/second, <n>/minute or <n>/hour")
    created = session.execute(
        text("INSERT INTO clients (id) VALUES (:id) ON CONFLICT DO NOTHING RETURNING id"), {"id": client_id}
    ).first()
    prefix = "wk_" + "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(8))
    key = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    session.execute(
        text(
            "INSERT INTO api_keys (client_id, prefix, hash, scopes, rate_limit)"
            " VALUES (:client, :prefix, :hash, :scopes, :rate_limit)"
        ),
        {"client": client_id, "prefix": prefix, "hash": _hash(key), "scopes": scopes, "rate_limit": rate_limit},
    )
    return IssuedKey(client_id, key, prefix, created is not None)


def list_keys(session: Session, client_id: str | None = None) -> list[ApiKey]:
    rows = session.execute(
        text(
            "SELECT id, client_id, prefix, hash, scopes, rate_limit, created_at, revoked_at FROM api_keys"
            " WHERE :client IS NULL OR client_id = :client ORDER BY client_id, created_at, id"
        ),
        {"client": client_id},
    )
    return [_api_key(row) for row in rows]


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with this prefix (again is harmless); it stops working everywhere."""
    row = session.execute(
        text(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE prefix = :prefix"
            " RETURNING id, client_id, prefix, hash, scopes, rate_limit, created_at, revoked_at"
        ),
        {"prefix": prefix},
    ).first()
    if row is None:
        raise KeyNotFound(prefix)
    return _api_key(row)


def well_formed(presented: str) -> bool:
    """Whether ``presented`` has a key's shape: what is not a key needs no database to be refused."""
    return KEY_PATTERN.fullmatch(presented) is not None


def find_key(db: Session | Connection, presented: str) -> ApiKey | None:
    """The live key ``presented`` is, or None: malformed, unknown, wrong secret or revoked alike."""
    match = KEY_PATTERN.fullmatch(presented)
    if match is None:
        return None
    row = BY_PREFIX.execute(db, match.group(1)).first()
    if row is None:
        return None
    key = _api_key(row)
    if not hmac.compare_digest(key.hash, _hash(presented)) or key.revoked_at is not None:
        return None
    return key


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _api_key(row) -> ApiKey:
    id_, client_id, prefix, hash_, scopes, rate_limit, created_at, revoked_at = row
    return ApiKey(id_, client_id, prefix, hash_, tuple(scopes), rate_limit, created_at, revoked_at)
