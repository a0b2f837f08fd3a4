"""The API's gunicorn settings: loopback unless told otherwise (the image sets 0.0.0.0)."""

import os
import subprocess
import sys

from tests.conftest import ROOT

PROGRAM = "import runpy; print(runpy.run_path('api/gunicorn_conf.py')['bind'])"


def bind_with(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"API_HOST", "API_PORT"}}
    finished = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=True
    )
    return finished.stdout.strip()


def test_api_listens_on_loopback_by_default() -> None:
    assert bind_with() == "127.0.0.1:8000"


def test_api_host_is_a_setting() -> None:
    assert bind_with(API_HOST="0.0.0.0", API_PORT="8123") == "0.0.0.0:8123"
