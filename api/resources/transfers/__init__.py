"""Money movements, the seed's routes: POST /wallets/deposit, /wallets/withdraw, /wallets/transfer."""
