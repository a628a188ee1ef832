"""The client's publishing calls against the sandbox over HTTP: what the publish function will do."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chalicelib.marketplace.mercadolibre import MercadoLibreError, get_mercadolibre
from tests.sandbox.conftest import listing_body


def _tokens(sandbox) -> str:  # type: ignore[no-untyped-def]
    client = get_mercadolibre()
    url = client.authorization_url("MLA", "any-state", None)
    back = sandbox.sign_in(url, "PUBLICADOR")
    return client.exchange_code(back["code"]).access_token


def _jpeg(size: int = 1200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (255, 255, 255)).save(out, format="JPEG")
    return out.getvalue()


def test_validate_upload_create_describe_and_find(sandbox) -> None:  # type: ignore[no-untyped-def]
    client = get_mercadolibre()
    token = _tokens(sandbox)
    seller_id = client.me(token)["id"]
    picture = client.upload_picture(token, _jpeg())
    assert picture["id"] and picture["variations"]
    attributes = [
        {"id": "BRAND", "value_name": "JBL"},
        {"id": "MODEL", "value_name": "Tune 510BT"},
        {"id": "SELLER_SKU", "value_name": "01INTELLIPOSTPRODUCT"},
    ]
    item = listing_body(picture["id"], attributes=attributes, seller_custom_field=None)
    with pytest.raises(MercadoLibreError) as refused:
        client.validate_item(token, {**item, "title": "x" * 200, "attributes": []})
    codes = {cause.code for cause in refused.value.causes}
    assert refused.value.error == "validation_error" and len(codes) >= 2  # title and the missing attributes
    assert all(cause.message for cause in refused.value.causes)

    client.validate_item(token, item)
    created = client.create_item(token, item)
    assert created["id"].startswith("MLA") and "mercadolibre.com.ar" in created["permalink"]
    client.add_description(
        token, created["id"], "Auriculares inalámbricos.\n\nEn la caja: auriculares, cable."
    )
    with pytest.raises(MercadoLibreError):
        client.add_description(token, created["id"], "otra vez")  # a second POST fails, as in MercadoLibre
    client.replace_description(token, created["id"], "Texto nuevo.")
    assert client.find_items_by_sku(token, seller_id, "01INTELLIPOSTPRODUCT") == [created["id"]]
    assert client.description(token, created["id"]) == "Texto nuevo."
    # GET /items/{id} is public: no token, and the stock is the owner's only.
    public = client.item(created["id"])
    assert public["id"] == created["id"] and "available_quantity" not in public
    assert client.item(created["id"], token)["available_quantity"] == 5
    paused = client.update_item(token, created["id"], {"status": "paused", "price": 42000})
    assert (paused["status"], paused["price"]) == ("paused", 42000)


def test_a_small_picture_is_refused_with_its_cause(sandbox) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MercadoLibreError) as refused:
        get_mercadolibre().upload_picture(_tokens(sandbox), _jpeg(300))
    assert refused.value.status == 400 and refused.value.causes


def test_an_expired_token_is_a_401_in_mercadolibres_shape(sandbox) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MercadoLibreError) as refused:
        get_mercadolibre().me("APP_USR-not-a-real-token")
    assert refused.value.status == 401
