"""Wallets: POST /users (the seed's route to open one), GET /wallets/{user_id}, its transactions and statement."""
