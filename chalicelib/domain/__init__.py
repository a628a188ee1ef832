"""Pure business rules: no boto3, no HTTP, no clock or randomness passed in implicitly."""
