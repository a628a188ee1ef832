"""The whole seller flow with logging at DEBUG: no password, token, key or secret in any log line."""

from __future__ import annotations

import io
import logging
import os

import pytest

from chalicelib.auth.sealing import unseal
from chalicelib.content import process_content_job
from chalicelib.observability import logger
from chalicelib.publish import process_publish_job
from chalicelib.store.models import MarketplaceAccountRow as MarketplaceAccount
from tests.selling import OATLY, connect, keys, through_images


def test_no_secret_reaches_a_log_line(api, sandbox, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    previous_stream = logger.registered_handler.setStream(stream)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)  # boto3, botocore, urllib3, pynamodb, werkzeug at DEBUG too
    try:
        password = "una contraseña muy secreta 123"
        seller = api.seller(password=password)
        login = api.call("POST", "/auth/login", {"email": seller.email, "password": password}).json
        refreshed = api.call("POST", "/auth/refresh", {"refresh_token": login["refresh_token"]}).json
        api.call("POST", "/auth/login", {"email": seller.email, "password": "wrong " + password})
        seller.tokens = refreshed
        _, product_id, job = through_images(api, OATLY)
        process_content_job(job)
        connect(api, sandbox, seller, "SECRETOS")
        account = MarketplaceAccount.get(seller.user_id)
    finally:
        logger.registered_handler.setStream(previous_stream)
        logger.setLevel(previous_level)
    secrets = {
        "password": password,
        "access token": login["access_token"],
        "refresh token": login["refresh_token"],
        "rotated refresh token": refreshed["refresh_token"],
        "JWT secret": os.environ["JWT_SECRET"],
        "tokens key": os.environ["TOKENS_LOCAL_KEY"],
        "MercadoLibre app secret": os.environ["MERCADOLIBRE_CLIENT_SECRET"],
        "MercadoLibre access token": unseal(account.access_token, seller.user_id),
        "MercadoLibre refresh token": unseal(account.refresh_token, seller.user_id),
    }
    logged = stream.getvalue() + "\n".join(record.getMessage() for record in caplog.records)
    assert len(logged) > 1000  # the flow did log, at DEBUG
    leaked = [name for name, value in secrets.items() if value and value in logged]
    assert leaked == []
    assert keys(f"jobs/content/{product_id}/")  # and it really ran the pipeline


def test_publishing_logs_no_marketplace_token(api, sandbox, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, job = through_images(api, OATLY)
    process_content_job(job)
    connect(api, sandbox, seller, "SECRETOS2")
    seller.call("POST", f"/products/{product_id}/publish", {"price": 100, "quantity": 1})
    stream = io.StringIO()
    previous_stream = logger.registered_handler.setStream(stream)
    caplog.set_level(logging.DEBUG)
    try:
        process_publish_job(keys(f"jobs/publish/{product_id}/")[0])
    finally:
        logger.registered_handler.setStream(previous_stream)
    account = MarketplaceAccount.get(seller.user_id)
    token = unseal(account.access_token, seller.user_id)
    logged = stream.getvalue() + "\n".join(record.getMessage() for record in caplog.records)
    assert token not in logged and unseal(account.refresh_token, seller.user_id) not in logged
