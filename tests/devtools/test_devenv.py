"""``make dev``'s environment: generated secrets in a file, under whatever the shell exports."""

from pathlib import Path

import pytest

from devtools.devenv import ensure_api_key, environment, read, write_once
from ledger.clients import find_key, revoke_key
from ledger.enums import Scope


def test_exported_variables_win_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env"
    path.write_text("WEBHOOK_SECRET=whsec_from_file\nFLOWER_BASIC_AUTH=admin:file\n")
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_exported")
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)

    env = environment(path)

    assert env["WEBHOOK_SECRET"] == "whsec_exported"
    assert env["FLOWER_BASIC_AUTH"] == "admin:file"


def test_secrets_are_generated_once(tmp_path: Path) -> None:
    path = tmp_path / ".dev" / "env"
    assert write_once(path) is True
    first = read(path)
    assert write_once(path) is False
    assert read(path) == first
    assert first["WEBHOOK_SECRET"].startswith("whsec_")
    assert path.stat().st_mode & 0o077 == 0


def test_the_development_key_is_made_once_and_again_when_the_database_forgets_it(tmp_path: Path, session) -> None:
    path = tmp_path / "env"
    write_once(path)
    secrets_before = read(path)

    assert ensure_api_key(path, session) is True
    key = read(path)["WALLET_API_KEY"]
    found = find_key(session, key)
    assert found is not None and found.client_id == "dev" and set(found.scopes) == set(Scope)
    assert ensure_api_key(path, session) is False
    assert read(path)["WALLET_API_KEY"] == key

    revoke_key(session, key[:11])
    session.commit()
    assert ensure_api_key(path, session) is True
    assert read(path)["WALLET_API_KEY"] != key
    assert {k: v for k, v in read(path).items() if k != "WALLET_API_KEY"} == secrets_before


def test_make_dev_logs_text_unless_told_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env"
    write_once(path)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert environment(path)["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert environment(path)["LOG_FORMAT"] == "json"
