"""Text PostgreSQL cannot store, found in a request body before any of it reaches the database.

PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character (U+0000), and UTF-8 has no encoding
for an unpaired surrogate (U+D800 to U+DFFF), which JSON's ``\\u`` escapes can spell all the same.
Either would fail the INSERT, a 500 far from the field that carried it. Looking where the JSON is
parsed covers every field of every route, present and future, and object keys as well as values.
"""

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Must not contain NUL characters or unpaired surrogates."
KEY_MESSAGE = "Keys must not contain NUL characters or unpaired surrogates."


def may_hold_unstorable_text(raw: bytes) -> bool:
    """False when ``raw`` cannot spell such text at all: plain ASCII without a ``\\u`` escape (most bodies)."""
    return not raw.isascii() or b"\\u" in raw


def unstorable_text(body: Any) -> dict | None:
    """Errors keyed by the path to each string that cannot be stored; None if there is none.

    A bad object key is reported under ``_keys`` of its object, without repeating the key.
    Iterative, so a body nested as deep as the JSON parser allows cannot exhaust the stack.
    """
    errors: dict = {}
    stack: list[tuple[Any, tuple]] = [(body, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                _put(errors, path or ("_schema",), MESSAGE)
        elif isinstance(value, dict):
            for key, item in value.items():
                if UNSTORABLE.search(key):
                    _put(errors, (*path, "_keys"), KEY_MESSAGE)
                else:
                    stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return errors or None


def _put(errors: dict, path: tuple, message: str) -> None:
    """Add ``message`` at ``path``; where messages already stand higher up the path (an object key
    named ``_keys``...), it joins them rather than nesting under a list."""
    node: dict | list = errors
    for depth, name in enumerate(path, start=1):
        if isinstance(node, list):
            break
        node = node.setdefault(name, [] if depth == len(path) else {})
    if isinstance(node, dict):
        node = node.setdefault("_schema", [])
    if message not in node:
        node.append(message)
