"""MercadoLibre's documented JSON examples, both ways: the client parses them, and the sandbox answers
in their shape.

The examples are MercadoLibre's own (tests/data/mercadolibre/docs_examples.jsonl, copied verbatim
from the 2026 docs scrape, with its source note). Each is served by a local HTTP server to the
production client (`chalicelib/marketplace/mercadolibre.py`) and what the client makes of it is
checked; and the sandbox's answer to the same call is held to the example's shape: every documented
key is there, with the same JSON type (a documented `null` takes anything), recursively, lists by
their first element. Error bodies must have exactly the documented keys. A key the sandbox does not
model is named below with the reason; anything else missing or of another type fails, so a sandbox
drifting from the docs fails here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from chalicelib.api.schemas import Notification
from chalicelib.marketplace.mercadolibre import MercadoLibreClient, MercadoLibreError, Problem
from infra.local.mercadolibre.notifications import notification
from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, App, SandboxState
from tests.mercadolibre_docs import example
from tests.sandbox.conftest import (
    FakeClock,
    Seller,
    authorization_code,
    exchange,
    jpeg,
    pkce_pair,
    refresh,
    sign_in,
)
from tests.scripted_server import ScriptedServer, scripted_server

# -- the shape check ---------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_problems(
    documented: Any,
    answered: Any,
    where: str = "$",
    exact: bool = False,
    unmodelled: frozenset[str] = frozenset(),
) -> list[str]:
    """Where `answered` departs from `documented`'s shape (`unmodelled`: paths the sandbox leaves out)."""
    if documented is None or where in unmodelled:
        return []
    if json_type(documented) != json_type(answered):
        return [f"{where}: documented {json_type(documented)}, answered {json_type(answered)}"]
    problems: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            path = f"{where}.{key}"
            if key not in answered:
                if path not in unmodelled:
                    problems.append(f"{path}: documented, missing")
                continue
            problems += shape_problems(value, answered[key], path, exact, unmodelled)
        if exact:
            problems += [f"{where}.{key}: not documented" for key in answered if key not in documented]
    elif isinstance(documented, list) and documented and answered:
        problems += shape_problems(documented[0], answered[0], f"{where}[0]", exact, unmodelled)
    return problems


def test_the_shape_check_catches_a_missing_key_and_another_type() -> None:
    documented = {"id": "MLA1", "price": 10, "pictures": [{"id": "x"}], "health": None}
    assert (
        shape_problems(documented, {"id": "MLA2", "price": 9.5, "pictures": [{"id": "y"}], "health": 1}) == []
    )
    assert shape_problems(documented, {"id": "MLA2", "price": "9", "pictures": [{}]}) == [
        "$.price: documented number, answered string",
        "$.pictures[0].id: documented, missing",
        "$.health: documented, missing",
    ]
    assert shape_problems({"a": 1}, {"a": 1, "b": 2}, exact=True) == ["$.b: not documented"]


# -- the sandbox, in process ---------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> FlaskClient:
    return create_app(SandboxState(clock=FakeClock())).test_client()


@pytest.fixture
def seller(sandbox: FlaskClient) -> Seller:
    return sign_in(sandbox)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def client(server: ScriptedServer) -> MercadoLibreClient:
    return MercadoLibreClient(
        server.url, "1234", "secret", "http://127.0.0.1/cb", sleep=lambda s: None, max_attempts=1
    )


def sandbox_matches(documented: Any, answered: Any, **options: Any) -> None:
    problems = shape_problems(documented, answered, **options)
    assert not problems, "\n".join(problems)


# -- OAuth ---------------------------------------------------------------------------------------------


def test_token_answers(sandbox: FlaskClient, server: ScriptedServer) -> None:
    first, renewed = example("autenticacion-y-autorizacion", 7), example("autenticacion-y-autorizacion", 9)
    server.answer(200, json.dumps(first))
    server.answer(200, json.dumps(renewed))
    tokens = client(server).exchange_code("TG-code", "verifier")
    assert (tokens.access_token, tokens.user_id, tokens.expires_in) == (first["access_token"], 1234567, 10800)
    assert client(server).refresh(tokens.refresh_token).refresh_token == renewed["refresh_token"]

    verifier, challenge = pkce_pair()
    answered = exchange(sandbox, authorization_code(sandbox, challenge=challenge), verifier)
    sandbox_matches(first, answered.json, exact=True)
    sandbox_matches(renewed, refresh(sandbox, answered.json["refresh_token"]).json, exact=True)


def test_invalid_grant(sandbox: FlaskClient, server: ScriptedServer) -> None:
    documented = example("autenticacion-y-autorizacion", 10)
    server.answer(400, json.dumps(documented))
    with pytest.raises(MercadoLibreError) as raised:
        client(server).refresh("TG-spent")
    assert raised.value.invalid_grant and raised.value.message == documented["error_description"]

    sandbox_matches(documented, refresh(sandbox, "TG-spent").json, exact=True)


def test_the_403s(sandbox: FlaskClient, seller: Seller, server: ScriptedServer) -> None:
    for block in (1, 2):
        server.answer(403, json.dumps(example("error-403", block)))
        with pytest.raises(MercadoLibreError) as raised:
            client(server).me("t")
        assert raised.value.problem is Problem.FORBIDDEN

    other = sign_in(sandbox, "OTHER")
    sandbox_matches(
        example("error-403", 2), other.get(f"/users/{seller.user_id}/items/search").json, exact=True
    )


# -- users, sites, categories --------------------------------------------------------------------------


def test_users_me(sandbox: FlaskClient, server: ScriptedServer) -> None:
    documented = example("producto-consulta-usuarios", 2)
    server.answer(200, json.dumps(documented))
    me = client(server).me("t")
    assert me["id"] == 202593498 and "user_product_seller" not in me["tags"]

    for kind in ("classic", "user_products"):
        answered = sign_in(sandbox, f"SELLER{kind.upper()}", kind=kind).get("/users/me").json
        sandbox_matches(documented, answered)
        assert ("user_product_seller" in answered["tags"]) is (kind == "user_products")


def test_domain_discovery(sandbox: FlaskClient, server: ScriptedServer) -> None:
    documented = example("categoriza-productos", 3)
    server.answer(200, json.dumps(documented))
    [prediction] = client(server).predict_category("MLA", "celular iphone", limit=1)
    assert prediction["category_id"] == "MLA1055"

    answered = sandbox.get(
        "/sites/MLA/domain_discovery/search", query_string={"q": "celular iphone", "limit": 1}
    )
    sandbox_matches(documented, answered.json)


# The sandbox's MLA tree comes without MercadoLibre's settings (catalog.py): the settings below are
# not in its data, so it does not make them up.
UNMODELLED_CATEGORY = frozenset(
    {
        "$.picture",
        "$.permalink",
        "$.date_created",
        *(
            f"$.settings.{name}"
            for name in (
                "catalog_domain",
                "coverage_areas",
                "fragile",
                "items_reviews_allowed",
                "listing_allowed",
                "mirror_category",
                "mirror_master_category",
                "mirror_slave_categories",
                "reservation_allowed",
                "restrictions",
                "rounded_address",
                "seller_contact",
                "shipping_modes",
                "shipping_options",
                "shipping_profile",
                "show_contact_information",
                "simple_shipping",
                "sub_vertical",
                "subscribable",
                "tags",
                "vertical",
                "buyer_protection_programs",
            )
        ),
    }
)


def test_a_category(sandbox: FlaskClient, server: ScriptedServer) -> None:
    documented = example("categorias-y-atributos", 4)
    server.answer(200, json.dumps(documented))
    assert client(server).category("MLA1743")["settings"]["max_title_length"] == 60

    sandbox_matches(documented, sandbox.get("/categories/MLA1743").json, unmodelled=UNMODELLED_CATEGORY)


# -- items ---------------------------------------------------------------------------------------------

# What a created item carries that the sandbox does not model: MercadoLibre's own address book and
# map for the seller (it has none for a local test seller), a listing's expiry, the sale terms' names
# (they come back as sent); attributes are checked below key by key (a value_id the seller did not
# send is null, where the example's has one).
UNMODELLED_ITEM = frozenset(
    {"$.seller_address", "$.geolocation", "$.expiration_time", "$.sale_terms", "$.attributes"}
)


def test_a_created_item(seller: Seller, server: ScriptedServer) -> None:
    from chalicelib.publish import _record

    documented = example("publica-productos", 17)
    server.answer(201, json.dumps(documented))
    created = client(server).create_item("t", {"title": "Item De Teste"})
    kept = _record(created, {}, "2020-06-05T13:48:45Z")  # what the product keeps of it
    assert (kept["id"], kept["status"], kept["sub_status"], kept["price"]) == (
        "MLB1548991737",
        "active",
        [],
        10,
    )
    assert kept["permalink"].endswith("-_JM")

    # The documented request's warranty, as sale terms.
    terms = [
        {"id": "WARRANTY_TYPE", "value_name": "Garantía del vendedor"},
        {"id": "WARRANTY_TIME", "value_name": "90 días"},
    ]
    answered = seller.post("/items", json=seller.listing(sale_terms=terms)).json
    assert answered["warranty"] == "Garantía del vendedor: 90 días"
    sandbox_matches(documented, answered, unmodelled=UNMODELLED_ITEM)
    # Attributes: the documented entry's keys, in every attribute the sandbox answers.
    for attribute in answered["attributes"]:
        assert {"id", "name", "value_id", "value_name"} <= set(attribute)


def test_an_item_read_after_a_notification(seller: Seller, server: ScriptedServer) -> None:
    documented = example("productos-recibe-notificaciones", 43)
    server.answer(200, json.dumps(documented))
    assert client(server).item("MLA686791111", "t")["status"] == "active"

    item_id = seller.post("/items", json=seller.listing()).json["id"]
    sandbox_matches(documented, seller.get(f"/items/{item_id}").json)


def test_the_seller_s_item_search(seller: Seller, server: ScriptedServer) -> None:
    documented = example("items-y-busquedas", 15)
    server.answer(200, json.dumps(documented))
    assert client(server).find_items_by_sku("t", 123456789, "SKU-1") == ["MLA844702264"]
    assert server.seen[0].args == {"seller_sku": "SKU-1"}

    seller.post("/items", json=seller.listing())
    sandbox_matches(documented, seller.get(f"/users/{seller.user_id}/items/search").json)


def test_a_description_error(seller: Seller, server: ScriptedServer) -> None:
    for block in (7, 9):
        documented = example("descripcion-de-articulos", block)
        server.answer(400, json.dumps(documented))
        with pytest.raises(MercadoLibreError) as raised:
            client(server).add_description("t", "MLA1", "Texto < br > 😀")
        assert raised.value.problem is Problem.VALIDATION
        assert raised.value.errors[0].references == documented["cause"][0]["references"]

    item_id = seller.post("/items", json=seller.listing()).json["id"]
    answered = seller.post(f"/items/{item_id}/description", json={"plain_text": "< br > 😀"}).json
    sandbox_matches(example("descripcion-de-articulos", 9), answered, exact=True)
    assert answered == example("descripcion-de-articulos", 9)  # the very example: plain_text[7]


def test_a_cause_object(server: ScriptedServer) -> None:
    cause = example("publica-productos", 13)
    server.answer(
        400,
        json.dumps(
            {"message": "Validation error", "error": "validation_error", "status": 400, "cause": [cause]}
        ),
    )
    with pytest.raises(MercadoLibreError) as raised:
        client(server).validate_item("t", {})
    assert (raised.value.errors[0].code, raised.value.errors[0].references) == (
        cause["code"],
        cause["references"],
    )


def test_a_picture_upload_reads_back(seller: Seller) -> None:
    uploaded = seller.post("/pictures/items/upload", data={"file": (io.BytesIO(jpeg()), "p.jpg")}).json
    assert set(uploaded["variations"][0]) == {"size", "url", "secure_url"}


# -- notifications -------------------------------------------------------------------------------------


def test_an_items_notification(seller: Seller) -> None:
    for block in (7, 41):
        parsed = Notification.model_validate(example("productos-recibe-notificaciones", block))
        assert (parsed.topic, parsed.resource) == ("items", "/items/MLA686791111")

    item = seller.post("/items", json=seller.listing()).json
    sent = notification(item, App(DEFAULT_CLIENT_ID, "secret", notifications_url="http://x"), 1_750_000_000)
    sandbox_matches(example("productos-recibe-notificaciones", 41), sent, exact=True)
