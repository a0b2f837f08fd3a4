"""What follows a transaction: capture or void a hold, reverse an applied transaction."""
