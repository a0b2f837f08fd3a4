"""Domain errors. Each carries a stable machine ``code`` that the API shows to clients as is.

The API maps them to HTTP by class, once (``api.extensions.problems``): every ``NotFound`` is a
404, every ``Conflict`` a 409, every ``InvalidRequest`` a 400. A new error subclasses one of them.
"""


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(LedgerError):
    """Nothing by that name or id, as far as the asker may know."""


class Conflict(LedgerError):
    """The request clashes with what exists already."""


class InvalidRequest(LedgerError):
    """Well-formed, but asks for something the domain does not allow (wallets in the wrong roles...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class StateConflict(Conflict):
    """The transaction a request names is not in a state that allows it (a reversal of a rejected one...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class WalletNotFound(NotFound):
    code = "wallet_not_found"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no wallet with user_id {user_id!r}")
        self.user_id = user_id


class TransactionNotFound(NotFound):
    code = "transaction_not_found"

    def __init__(self, transaction_id: object) -> None:
        super().__init__(f"no transaction with id {transaction_id}")
        self.transaction_id = transaction_id


class WalletExists(Conflict):
    code = "wallet_exists"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"a wallet with user_id {user_id!r} already exists")
        self.user_id = user_id


class IdempotencyConflict(Conflict):
    """The key was used before for a request with a different body."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used for a different request")
        self.key = key
