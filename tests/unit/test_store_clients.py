"""Every table talks to DynamoDB through one client a process: botocore builds a client (and parses
the service's model) once, not once per table."""

from __future__ import annotations

from chalicelib.store.aws import get_dynamodb
from chalicelib.store.models import ALL_MODELS


def test_every_table_and_transaction_share_one_dynamodb_client() -> None:
    clients = {id(model._get_connection().connection.client) for model in ALL_MODELS}
    assert clients == {id(get_dynamodb().client)}
