"""``make dev``'s environment: generated secrets in a file, under whatever the shell exports."""

from pathlib import Path

import pytest

from devtools.devenv import environment, read, write_once


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
