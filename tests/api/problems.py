"""The assertion every error test makes: an RFC 9457 problem with the expected status and code."""

from werkzeug.test import TestResponse


def assert_problem(response: TestResponse, status: int, code: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/problem+json"
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:wallet:problem:{code}"
    assert body["title"] and body["detail"]
    return body
