"""The way out to receivers: the SSRF guard (``urls``) and the pinned HTTP POST (``http``).

Delivery talks to a ``Transport``, so a test can put a fake receiver behind the same seam.
"""

from dataclasses import dataclass
from typing import Protocol

from webhooks.transport import http
from webhooks.transport.http import Response


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response: ...


@dataclass(frozen=True)
class HttpTransport:
    """POST over the network to addresses the guard approved (any address with ``allow_private``)."""

    timeout: float
    allow_private: bool

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        return http.post(url, body, headers, timeout=self.timeout, allow_private=self.allow_private)
