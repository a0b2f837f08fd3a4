"""One webhook POST, made to the addresses the SSRF guard checked, never following a redirect.

urllib3 rather than requests: a connection pool opened on the checked IP address, with the TLS
server name and certificate check bound to the host name, is how the request is pinned to what
was checked. requests resolves the name again by itself, which is the window DNS rebinding uses.
"""

import socket
import time
from dataclasses import dataclass

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import HTTPError, NewConnectionError

from webhooks.transport.urls import Target, UnsafeURL, parse, resolve

USER_AGENT = "wallet-webhooks/1"


@dataclass(frozen=True)
class Response:
    """What came back: an HTTP status, or the error that stood in its place."""

    status: int | None
    error: str | None
    latency_ms: int
    retry_after: str | None = None
    # True when the request was refused before it was sent (the SSRF guard): retrying cannot help.
    refused: bool = False


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Response:
    """POST ``body`` to ``url``; never raises for a network failure, it becomes ``Response.error``."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = parse(url)
        addresses = resolve(target, allow_private=allow_private)
    except UnsafeURL as exc:
        return Response(None, f"refused: {exc.detail}", elapsed(), refused=True)
    except (OSError, UnicodeError) as exc:
        return Response(None, f"cannot resolve {url!r}: {exc}", elapsed())
    error = "no address to connect to"
    for address in addresses:
        try:
            status, retry_after = _post_to(target, address, body, headers, timeout)
        except NewConnectionError as exc:
            # Refused or unreachable at once: the host's next address may answer.
            error = f"connection failed: {_reason(exc)}"
            continue
        except HTTPError as exc:
            return Response(None, f"{type(exc).__name__}: {_reason(exc)}", elapsed())
        return Response(status, None, elapsed(), retry_after)
    return Response(None, error, elapsed())


def _post_to(
    target: Target, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str | None]:
    options = {"timeout": Timeout(total=timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        # Connect to the checked address; present and verify the certificate of the host name.
        pool = HTTPSConnectionPool(address, target.port, server_hostname=target.host, **options)
    else:
        pool = HTTPConnectionPool(address, target.port, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.authority, "User-Agent": USER_AGENT},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        # The answer's body is not ours to read: status and headers say all a delivery needs.
        response.release_conn()
        return response.status, response.headers.get("Retry-After")


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.timeout | TimeoutError):
        return "timed out"
    return str(reason)
