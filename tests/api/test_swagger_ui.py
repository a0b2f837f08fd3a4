"""Swagger UI at /docs, rendered by a real browser from the app's own assets (no CDN, no internet)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium (Debian package chromium)")


def rendered(url: str, profile: Path) -> str:
    """The DOM of ``url`` after its scripts ran, as headless Chromium sees it."""
    finished = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout


def test_docs_page_names_no_outside_host(api_server) -> None:
    api = api_server()
    page = requests.get(f"{api.url}/docs", timeout=10).text
    assert re.findall(r"""(?:src|href)=["']([^"']+)""", page)
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", page)


def test_swagger_ui_lists_the_operations_in_a_browser(api_server, tmp_path: Path) -> None:
    api = api_server()
    dom = rendered(f"{api.url}/docs", tmp_path / "chromium")
    assert dom.count('class="opblock ') >= 10, dom[-2000:]
    assert 'data-path="/wallets/transfer"' in dom
    assert 'data-path="/wallets/{user_id}/statement"' in dom
