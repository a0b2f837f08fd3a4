"""Moving money: deposit, withdraw and transfer one at a time (the seed's routes), or many in a batch."""
