"""Domain errors. Each carries a stable machine ``code`` that the API shows to clients as is."""


class LedgerError(Exception):
    code = "ledger_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WalletNotFound(LedgerError):
    code = "wallet_not_found"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no wallet with user_id {user_id!r}")
        self.user_id = user_id


class WalletExists(LedgerError):
    code = "wallet_exists"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"a wallet with user_id {user_id!r} already exists")
        self.user_id = user_id


class IdempotencyConflict(LedgerError):
    """The key was used before for a request with a different body."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used for a different request")
        self.key = key


class InvalidRequest(LedgerError):
    """A request that is well-formed but names wallets in roles they cannot play."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
