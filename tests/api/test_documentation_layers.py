"""Decorators that only document a route leave its doc on the view and add no call of their own."""

from api.extensions.smorest import Blueprint
from ledger.enums import Scope


def _view() -> str:
    return "answered"


def test_problem_doc_and_alt_response_return_the_view_itself() -> None:
    blp = Blueprint("layers", __name__)
    view = blp.problem(404, "wallet_not_found: no such wallet")(_view)
    view = blp.doc(summary="A view")(view)
    view = blp.alt_response(200, description="Decided", success=True)(view)
    assert view is _view
    assert view() == "answered"
    responses = view._apidoc["response"]["responses"]
    assert responses[404][0]["description"] == "wallet_not_found: no such wallet"
    assert responses[200][0]["description"] == "Decided"
    assert view._apidoc["success_status_codes"] == [200]
    assert view._apidoc["manual_doc"] == {"summary": "A view"}


def test_a_route_needing_a_key_documents_its_refusals_without_wrapping() -> None:
    def keyed() -> str:
        return "answered"

    view = Blueprint("keyed", __name__).requires(Scope.WALLETS_READ)(keyed)
    assert view is keyed
    assert set(view._apidoc["response"]["responses"]) == {401, 403, 429}
    assert view._apidoc["manual_doc"] == {"security": [{"apiKey": []}]}
    assert view.required_scope == Scope.WALLETS_READ
