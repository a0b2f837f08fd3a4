"""``python -m workers.devenv PATH``: write the development secrets file once, never overwrite it.

``make dev`` keeps secrets out of the repository: they are generated on first run into a
gitignored file that honcho loads, and the same values are used on every later run.
"""

import base64
import secrets
import sys
from pathlib import Path


def dev_env() -> dict[str, str]:
    return {
        # Standard Webhooks secret format: whsec_ + base64 of the raw key.
        "WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "FLOWER_BASIC_AUTH": "admin:" + secrets.token_urlsafe(18),
        # Local development receives webhooks on localhost; production keeps the default (refuse).
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }


def write_once(path: Path) -> bool:
    """Write ``path`` if it does not exist; True if it was written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in dev_env().items()))
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1])
    if write_once(target):
        print(f"generated development secrets in {target} (WEBHOOK_SECRET, FLOWER_BASIC_AUTH)")
    else:
        print(f"development secrets: {target}")
