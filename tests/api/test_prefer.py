"""Reading RFC 7240 ``Prefer: wait=N``: capped, and ignored when it cannot be understood."""

from collections.abc import Iterator

import pytest
from flask import Flask

from api import create_app
from api.shared.prefer import wait_preference


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """Parsing needs only the app's config; the database is never reached."""
    app = create_app({"DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/unused"})
    with app.app_context():
        yield app


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=5", 5),
        ("WAIT = 7", 7),
        ('wait="3"', 3),
        ("respond-async, wait=10", 10),
        ("return=minimal; foo=bar, wait=2;x=y", 2),
        ("wait=0", 0),
        ("wait=007", 7),
        ("wait=31", 30),
        ("wait=" + "9" * 5000, 30),
        ("wait=1.5", None),
        ("wait=-1", None),
        ("wait=٣", None),
        ("wait", None),
        ("respond-async", None),
        ("", None),
        (None, None),
    ],
)
def test_wait_preference(app, header, seconds) -> None:
    assert wait_preference(header) == seconds
