"""The MercadoLibre client against a local server answering with MercadoLibre's recorded responses.

The bodies are real ones from MercadoLibre's documentation (tests/data/mercadolibre, with their source
notes); the server speaks HTTP for real, so retries, headers, forms and multipart are exercised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.marketplace.mercadolibre import MercadoLibreClient, MercadoLibreError, Problem, Unreachable
from tests.scripted_server import ScriptedServer, scripted_server

RECORDED = Path(__file__).parents[1] / "data" / "mercadolibre"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


@pytest.fixture
def server() -> ScriptedServer:
    with scripted_server() as running:
        yield running  # type: ignore[misc]


def client(server: ScriptedServer, **options: object) -> MercadoLibreClient:
    return MercadoLibreClient(
        server.url,
        "1234",
        "app-secret",
        "http://127.0.0.1:8000/api/v1/ml/callback",
        sleep=lambda s: None,
        **options,  # type: ignore[arg-type]
    )


def test_authorization_url_uses_the_sites_host_state_and_pkce() -> None:
    url = MercadoLibreClient("https://api.mercadolibre.com", "1234", "s", "https://x/cb").authorization_url(
        "MLB", "st4te", "ch4llenge"
    )
    assert url.startswith("https://auth.mercadolivre.com.br/authorization?response_type=code&client_id=1234")
    assert "state=st4te" in url and "code_challenge=ch4llenge" in url and "code_challenge_method=S256" in url


def test_code_exchange_posts_a_form_and_reads_the_recorded_token(server: ScriptedServer) -> None:
    server.answer(200, recorded("docs_oauth_token_authorization_code.json"))
    tokens = client(server).exchange_code("TG-code", "verifier")
    assert tokens.access_token.startswith("APP_USR-") and tokens.refresh_token.startswith("TG-")
    assert tokens.user_id == 1234567 and tokens.expires_in == 10800
    [call] = server.seen
    assert call.path == "/oauth/token" and call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.form == {
        "grant_type": "authorization_code",
        "client_id": "1234",
        "client_secret": "app-secret",
        "code": "TG-code",
        "redirect_uri": "http://127.0.0.1:8000/api/v1/ml/callback",
        "code_verifier": "verifier",
    }


def test_a_spent_refresh_token_is_invalid_grant_and_never_retried(server: ScriptedServer) -> None:
    server.answer(400, recorded("docs_oauth_invalid_grant.json"))
    with pytest.raises(MercadoLibreError) as raised:
        client(server).refresh("TG-old")
    assert raised.value.invalid_grant and raised.value.status == 400
    assert "already used" in raised.value.message
    assert len(server.seen) == 1


def test_validation_causes_are_kept_for_the_panel(server: ScriptedServer) -> None:
    # The documentation cuts this example short of its closing brackets; completed here.
    body = recorded("docs_items_validation_error_causes.json").decode().rstrip() + "\n]\n}"
    server.answer(400, body)
    with pytest.raises(MercadoLibreError) as raised:
        client(server).validate_item("APP_USR-token", {"title": "x"})
    error = raised.value
    assert error.error == "validation_error" and error.status == 400
    assert [c.code for c in error.causes][:2] == [
        "create.item.attribute.business_conditional",
        "moderations.seller.not_authorized",
    ]
    assert error.causes[1].type == "error" and error.causes[1].references[0] == "item.seller_id"
    assert server.seen[0].headers["Authorization"] == "Bearer APP_USR-token"


def test_an_unparseable_error_body_still_gives_a_clear_error(server: ScriptedServer) -> None:
    server.answer(502, "<html>bad gateway</html>", Content_Type="text/html")
    with pytest.raises(MercadoLibreError) as raised:
        client(server, max_attempts=1).item("MLA1", "t")
    assert raised.value.status == 502 and raised.value.causes == []


def test_reads_are_retried_on_429_and_5xx_honouring_retry_after(server: ScriptedServer) -> None:
    waits: list[float] = []
    server.answer(
        429, '{"message": "too many requests", "error": "local_rate_limited", "status": 429}', Retry_After="3"
    )
    server.answer(503, "{}")
    server.answer(200, recorded("java-sdk_get_users_me_test_user.json"))
    me = MercadoLibreClient(server.url, "1", "s", "cb", sleep=waits.append).me("APP_USR-token")
    assert me["nickname"] and len(server.seen) == 3
    assert waits[0] == 3.0 and 0 <= waits[1] <= 1.0


def test_creating_an_item_is_not_retried_after_a_5xx(server: ScriptedServer) -> None:
    """A 500 may still have created the item: the publisher looks it up by SKU instead."""
    server.answer(500, '{"message": "internal", "error": "internal_error", "status": 500, "cause": []}')
    with pytest.raises(MercadoLibreError) as raised:
        client(server).create_item("t", {"title": "x"})
    assert raised.value.status == 500 and len(server.seen) == 1


def test_creating_an_item_is_retried_after_a_429(server: ScriptedServer) -> None:
    server.answer(429, "{}")
    server.answer(201, '{"id": "MLA123", "permalink": "https://articulo.mercadolibre.com.ar/MLA-123-x-_JM"}')
    assert client(server).create_item("t", {"title": "x"})["id"] == "MLA123"
    assert len(server.seen) == 2


def test_pictures_go_as_multipart_file(server: ScriptedServer) -> None:
    server.answer(201, '{"id": "123-MLA456_012024", "variations": []}')
    assert client(server).upload_picture("t", b"\xff\xd8\xff jpeg bytes")["id"] == "123-MLA456_012024"
    assert server.seen[0].files == {"file": b"\xff\xd8\xff jpeg bytes"}


def test_category_prediction_reads_the_recorded_answer(server: ScriptedServer) -> None:
    server.answer(200, recorded("docs_MLA_domain_discovery_celular_iphone.json"))
    predictions = client(server).predict_category("MLA", "celular iphone", limit=3)
    assert predictions[0]["category_id"].startswith("MLA")
    assert server.seen[0].path == "/sites/MLA/domain_discovery/search"
    assert server.seen[0].args == {"q": "celular iphone", "limit": "3"}


def test_the_items_a_seller_has_by_sku(server: ScriptedServer) -> None:
    server.answer(200, '{"seller_id": "9", "results": ["MLA1", "MLA2"], "paging": {"total": 2}}')
    assert client(server).find_items_by_sku("t", 9, "01PRODUCT") == ["MLA1", "MLA2"]
    assert server.seen[0].path == "/users/9/items/search" and server.seen[0].args == {
        "seller_sku": "01PRODUCT"
    }


# -- every documented error shape, and what kind of problem it is ------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "message", "causes", "problem"),
    [
        (  # cause objects (validaciones)
            400,
            recorded("docs_items_validation_error_causes.json").decode().rstrip() + "\n]\n}",
            "validation_error",
            "Validation error",
            ["create.item.attribute.business_conditional", "moderations.seller.not_authorized"],
            Problem.VALIDATION,
        ),
        (  # cause strings, the code in `message` and the words in `error` (a real answer)
            403,
            '{"message": "seller.unable_to_list", "error": "User is unable to list.", "status": 403,'
            ' "cause": ["address_pending", "phone_pending", "address_empty_city"]}',
            "seller.unable_to_list",
            "User is unable to list.",
            ["address_pending", "phone_pending", "address_empty_city"],
            Problem.ACCOUNT,
        ),
        (  # the list of wrong types in `error` (errors/docs_items_validate_body_invalid_field_types.json)
            400,
            '{"message": "body.invalid_field_types", "error": "[invalid property type: [price] expected'
            ' Number but was String value: p]", "status": 400, "cause": []}',
            "body.invalid_field_types",
            "[invalid property type: [price] expected Number but was String value: p]",
            [],
            Problem.DEFECT,
        ),
        (  # the gateway's {code, message}
            401,
            '{"code": "unauthorized", "message": "invalid access token"}',
            "unauthorized",
            "invalid access token",
            [],
            Problem.TOKEN,
        ),
        (  # error-403: no cause, a `code`
            403,
            '{"status": 403, "error": "access_denied", "message": "access to the requested resource is'
            ' forbidden", "code": "FORBIDDEN"}',
            "access_denied",
            "access to the requested resource is forbidden",
            [],
            Problem.FORBIDDEN,
        ),
        (
            403,
            '{"status": 403, "error": "Invalid scopes", "code": "FORBIDDEN"}',
            "FORBIDDEN",
            "Invalid scopes",
            [],
            Problem.FORBIDDEN,
        ),
        (401, recorded("docs_invalid_token_401.json"), "not_found", "invalid_token", [], Problem.TOKEN),
        (
            400,
            '{"message": "body.invalid", "error": "bad_request", "status": 400, "cause": []}',
            "body.invalid",
            "bad_request",
            [],
            Problem.DEFECT,
        ),
        (
            409,
            '{"message": "item optimistic locking error: conflict", "status": 409, "cause": []}',
            "409",
            "item optimistic locking error: conflict",
            [],
            Problem.REFUSED,
        ),
    ],
    ids=[
        "cause-objects",
        "cause-strings",
        "invalid-field-types",
        "gateway",
        "403",
        "invalid-scopes",
        "401",
        "body-invalid",
        "409",
    ],
)
def test_every_error_shape_keeps_its_code_words_and_causes(  # type: ignore[no-untyped-def]
    server, status, body, error, message, causes, problem
) -> None:
    server.answer(status, body, x_request_id="req-123")
    with pytest.raises(MercadoLibreError) as raised:
        client(server, max_attempts=1).create_item("t", {"family_name": "x"})
    found = raised.value
    assert (found.status, found.error, found.message) == (status, error, message)
    assert [cause.code for cause in found.causes][: len(causes)] == causes
    assert found.problem is problem and found.request_id == "req-123"


def test_a_create_that_times_out_is_an_unknown_outcome_never_retried(server: ScriptedServer) -> None:
    server.answer(201, '{"id": "MLA1"}', delay="0.5")  # answered after the client gave up
    with pytest.raises(Unreachable) as raised:
        client(server, timeout=(1.0, 0.2)).create_item("t", {"title": "x"})
    assert raised.value.problem is Problem.UNAVAILABLE and raised.value.status == 0
    assert len(server.seen) == 1  # not tried again: it may have been created


def test_a_read_that_times_out_is_tried_again_then_unreachable(server: ScriptedServer) -> None:
    for _ in range(2):
        server.answer(200, "{}", delay="0.5")
    with pytest.raises(Unreachable):
        client(server, timeout=(1.0, 0.2), max_attempts=2).item("MLA1")
    assert len(server.seen) == 2
    assert "Authorization" not in server.seen[0].headers  # a public read sends no token
