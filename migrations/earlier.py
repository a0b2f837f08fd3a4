"""Earlier migrations' SQL, for a migration that edits it: one place to load and edit it from.

A migration that changes a function an earlier one created replays that SQL with edits rather
than a copy, so the difference is what the migration says; each edit is checked to apply, so an
earlier migration that no longer holds the text fails loudly instead of being half-edited.
Migration files are not a package: they are loaded by path, as Alembic loads them.
"""

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).with_name("versions")


def migration(name: str) -> ModuleType:
    """The module of migration ``name`` (its file name without ``.py``)."""
    spec = importlib.util.spec_from_file_location(f"migration_{name}", VERSIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edited(sql: str, edits: list[tuple[str, str]]) -> str:
    """``sql`` with each ``(before, after)`` applied; raises if a ``before`` is not in it."""
    for before, after in edits:
        if before not in sql:
            raise RuntimeError(f"the earlier migration's SQL no longer holds {before!r}")
        sql = sql.replace(before, after)
    return sql


def excerpt(name: str, start: str, end: str | None = None) -> str:
    """Migration ``name``'s SCHEMA from ``start`` up to ``end`` (or its end), every ``CREATE
    FUNCTION`` in it made ``CREATE OR REPLACE``: what that migration defined, to put back or edit."""
    schema = migration(name).SCHEMA
    begin = schema.find(start)
    stop = len(schema) if end is None else schema.find(end, begin + len(start))
    if begin < 0 or stop < 0:
        raise RuntimeError(f"migration {name}'s SCHEMA no longer holds {start!r} followed by {end!r}")
    return schema[begin:stop].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
