"""Framework glue of the API: flask-smorest customisation and the database handle."""
