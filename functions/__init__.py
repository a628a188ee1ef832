"""One module per Lambda function, each a Chalice Blueprint registered by app.py."""
