"""The MercadoLibre sandbox as a Flask app: the endpoints IntelliPost calls, in MercadoLibre's words.

Every answer carries `X-Sandbox: intellipost-local`; every error has MercadoLibre's shape
`{"message", "error", "status", "cause"}`, unknown routes included. `/_sandbox/*` is the test
harness (health, fault knobs, token expiry, reset, extra apps) and is never subject to faults.
"""

from __future__ import annotations

import html
import time
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, redirect, request
from werkzeug import Response as Redirect
from werkzeug.exceptions import HTTPException

from infra.local.mercadolibre import listing_rules, oauth, pictures
from infra.local.mercadolibre.catalog import SITES, load_catalog
from infra.local.mercadolibre.errors import ApiError, bad_request, forbidden, not_found, validation_error
from infra.local.mercadolibre.predictor import DEFAULT_LIMIT, MAX_LIMIT, CategoryPredictor
from infra.local.mercadolibre.state import App, Faults, SandboxState, Seller

SANDBOX_HEADER = ("X-Sandbox", "intellipost-local")
OAUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# The sign-in page speaks the seller's language (MercadoLibre's own page does, on each site's domain;
# here the browser's Accept-Language says it) and fits a phone's screen.
SIGN_IN_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem; max-width: 32rem; }}
h1 {{ font-size: 1.3rem; }}
label {{ display: block; margin: 0 0 1rem; font-weight: 600; }}
input, select, button {{ display: block; width: 100%; box-sizing: border-box; min-height: 44px;
  margin-top: 0.25rem; font: inherit; padding: 0.5rem; border: 1px solid #57606a; border-radius: 8px; }}
button {{ background: #2d3277; color: #fff; font-weight: 700; border-color: #2d3277; }}
</style></head>
<body>
<h1>{heading}</h1>
<p>{asks}</p>
<form method="post" action="/authorization">
{hidden}
<label>{nickname} <input name="nickname" value="TESTSELLER" required></label>
<label>{site} <select name="site_id"><option value="MLA">MLA (Argentina)</option>
<option value="MLB">MLB (Brasil)</option></select></label>
<button type="submit">{submit}</button>
</form>
</body></html>
"""
SIGN_IN_WORDS = {
    "es": {
        "title": "Sandbox de MercadoLibre (local)",
        "heading": "Sandbox de MercadoLibre: es local, no es MercadoLibre",
        "asks": "La aplicación <b>{client_id}</b> pide publicar en nombre de un vendedor de prueba local.",
        "nickname": "Apodo",
        "site": "País",
        "submit": "Ingresar y autorizar",
    },
    "pt": {
        "title": "Sandbox do Mercado Livre (local)",
        "heading": "Sandbox do Mercado Livre: é local, não é o Mercado Livre",
        "asks": "O aplicativo <b>{client_id}</b> pede para publicar em nome de um vendedor de teste local.",
        "nickname": "Apelido",
        "site": "País",
        "submit": "Entrar e autorizar",
    },
    "en": {
        "title": "MercadoLibre sandbox (local)",
        "heading": "MercadoLibre sandbox: local, not MercadoLibre",
        "asks": "The application <b>{client_id}</b> asks to publish on behalf of a local test seller.",
        "nickname": "Nickname",
        "site": "Site",
        "submit": "Sign in and authorize",
    },
}


@cache
def load_predictor() -> CategoryPredictor:
    return CategoryPredictor(load_catalog())


def create_app(state: SandboxState) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    catalog = load_catalog()
    predictor = load_predictor()

    def json_response(body: Any, status: int = 200) -> Response:
        response = jsonify(body)
        response.status_code = status
        return response

    def signed_in_seller() -> Seller:
        return oauth.authenticate(state, request.headers.get("Authorization"))

    def own_item(item_id: str) -> tuple[Seller, dict[str, Any]]:
        seller = signed_in_seller()
        with state.lock:
            item = state.items.get(item_id)
        if item is None:
            raise not_found(f"Item with id {item_id} not found")
        if item["seller_id"] != seller.id:
            raise forbidden()
        return seller, item

    # -- errors, faults and the sandbox header ----------------------------------------------------------

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return json_response(error.body(), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            return api_error(not_found())
        return api_error(
            ApiError(status, (error.name or "error").lower().replace(" ", "_"), error.description or "")
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return api_error(ApiError(500, "internal_error", f"{type(error).__name__}: {error}"))

    @app.before_request
    def inject_faults() -> Response | None:
        if request.path.startswith("/_sandbox/"):
            return None
        with state.lock:
            faults = state.faults
            applies = not faults.paths or any(request.path.startswith(prefix) for prefix in faults.paths)
            roll = state.fault_dice.random() if applies else 1.0
        if not applies:
            return None
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if roll < faults.status_429_share:
            response = api_error(ApiError(429, "local_rate_limited", "Too many requests"))
            response.headers["Retry-After"] = "1"
            return response
        if roll < faults.status_429_share + faults.status_500_share:
            return api_error(ApiError(500, "internal_error", "Internal server error"))
        return None

    @app.after_request
    def mark_local(response: Response) -> Response:
        response.headers[SANDBOX_HEADER[0]] = SANDBOX_HEADER[1]
        return response

    # -- OAuth ------------------------------------------------------------------------------------------

    @app.get("/authorization")
    def authorization_page() -> Response:
        params = {name: request.args[name] for name in OAUTH_PARAMS if name in request.args}
        oauth.check_authorization_request(state, params)
        hidden = "\n".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in params.items()
        )
        lang = request.accept_languages.best_match(list(SIGN_IN_WORDS)) or "es"
        words = SIGN_IN_WORDS[lang]
        asks = words["asks"].format(client_id=html.escape(params["client_id"]))
        page = SIGN_IN_PAGE.format(lang=lang, hidden=hidden, **{**words, "asks": asks})
        headers = {"Content-Language": lang, "Vary": "Accept-Language"}
        return Response(page, mimetype="text/html", headers=headers)

    @app.post("/authorization")
    def authorize() -> Redirect:
        params = {name: request.form[name] for name in OAUTH_PARAMS if name in request.form}
        code = oauth.sign_in(
            state, params, request.form.get("nickname", ""), request.form.get("site_id", "MLA")
        )
        scheme, netloc, path, query, fragment = urlsplit(params["redirect_uri"])
        answer = [*parse_qsl(query), ("code", code)]
        if "state" in params:
            answer.append(("state", params["state"]))
        return redirect(urlunsplit((scheme, netloc, path, urlencode(answer), fragment)), 302)

    @app.post("/oauth/token")
    def token() -> Response:
        return json_response(oauth.token(state, request.form.to_dict()))

    @app.get("/users/me")
    def users_me() -> Response:
        return json_response(oauth.seller_json(signed_in_seller()))

    # -- categories and the predictor ------------------------------------------------------------------

    @app.get("/sites/<site_id>/domain_discovery/search")
    def domain_discovery(site_id: str) -> Response:
        if site_id not in SITES:
            raise not_found(f"Site {site_id} not found")
        query = request.args.get("q", "").strip()
        if not query:
            raise bad_request("The parameter q is required")
        limit = request.args.get("limit", str(DEFAULT_LIMIT))
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise bad_request(f"limit must be between 1 and {MAX_LIMIT}")
        return json_response(predictor.domain_discovery(site_id, query, int(limit)))

    @app.get("/categories/<category_id>")
    def category(category_id: str) -> Response:
        found = catalog.get(category_id)
        if found is None:
            raise not_found(f"Category {category_id} not found")
        return json_response(catalog.category_json(found))

    @app.get("/categories/<category_id>/attributes")
    def category_attributes(category_id: str) -> Response:
        attributes = catalog.attributes(category_id)
        if attributes is None:
            raise not_found(f"Category {category_id} not found")
        return json_response(attributes)

    # -- pictures ---------------------------------------------------------------------------------------

    @app.post("/pictures/items/upload")
    def upload_picture() -> Response:
        seller = signed_in_seller()
        upload = request.files.get("file")
        picture = pictures.upload(state, seller.id, seller.site_id, upload.read() if upload else None)
        return json_response(pictures.picture_json(picture, request.host_url), 201)

    @app.get("/pictures/<picture_id>")
    def picture(picture_id: str) -> Response:
        with state.lock:
            found = state.pictures.get(picture_id)
        if found is None:
            raise not_found(f"Picture {picture_id} not found")
        return json_response(pictures.picture_json(found, request.host_url))

    @app.get("/pictures/<picture_id>/<size>.jpg")
    def picture_file(picture_id: str, size: str) -> Response:
        content = pictures.render(state, picture_id, size)
        if content is None:
            raise not_found(f"Picture {picture_id} has no {size} variation")
        return Response(content, mimetype="image/jpeg")

    # -- items ------------------------------------------------------------------------------------------

    def checked_item(seller: Seller) -> tuple[dict[str, Any], Any]:
        body = listing_rules.check_body(request.get_json(silent=True))
        category, causes = listing_rules.validate(body, seller, catalog, state)
        if causes:
            raise validation_error(causes)
        return body, category

    @app.post("/items/validate")
    def validate_item() -> Response:
        checked_item(signed_in_seller())
        return Response(status=204)

    @app.post("/items")
    def create_item() -> Response:
        seller = signed_in_seller()
        body, category = checked_item(seller)
        plain_text = (
            listing_rules.check_description(body["description"], category) if "description" in body else None
        )
        item = listing_rules.new_item(body, seller, category, catalog, state, request.host_url)
        with state.change():
            state.items[item["id"]] = item
            if plain_text is not None:
                state.descriptions[item["id"]] = listing_rules.description_json(plain_text, state)
        return json_response(item, 201)

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> Response:
        return json_response(own_item(item_id)[1])

    @app.route("/items/<item_id>/description", methods=["GET", "POST", "PUT"])
    def item_description(item_id: str) -> Response:
        _, item = own_item(item_id)
        with state.lock:
            current = state.descriptions.get(item_id)
        if request.method == "GET":
            if current is None:
                raise not_found(f"Description for item {item_id} not found")
            return json_response(current)
        if request.method == "POST" and current is not None:
            # As answered by api.mercadolibre.com to a second POST.
            raise ApiError(400, "item.description.invalid", "Item already has a description, use PUT instead")
        category = catalog.get(item["category_id"])
        assert category is not None
        plain_text = listing_rules.check_description(request.get_json(silent=True), category)
        description = listing_rules.description_json(
            plain_text, state, current["date_created"] if current else None
        )
        with state.change():
            state.descriptions[item_id] = description
        return json_response(description, 201 if request.method == "POST" else 200)

    @app.get("/users/<int:user_id>/items/search")
    def seller_items(user_id: int) -> Response:
        seller = signed_in_seller()
        if seller.id != user_id:
            raise forbidden()
        sku = request.args.get("seller_sku") or request.args.get("sku")
        status = request.args.get("status")
        offset = int(request.args.get("offset", "0") or 0)
        limit = int(request.args.get("limit", "50") or 50)
        with state.lock:
            found = [
                item["id"]
                for item in state.items.values()
                if item["seller_id"] == user_id
                and (status is None or item["status"] == status)
                and (sku is None or sku in item_skus(item))
            ]
        return json_response(
            {
                "seller_id": str(user_id),
                "query": None,
                "paging": {"limit": limit, "offset": offset, "total": len(found)},
                "results": found[offset : offset + limit],
                "orders": [{"id": "stop_time_asc", "name": "Order by stop time ascending"}],
            }
        )

    # -- the test harness ------------------------------------------------------------------------------

    @app.get("/_sandbox/health")
    def health() -> Response:
        with state.lock:
            counts = {
                "sellers": len(state.sellers),
                "pictures": len(state.pictures),
                "items": len(state.items),
            }
        return json_response({"status": "ok", "sandbox": SANDBOX_HEADER[1], "sites": list(SITES), **counts})

    @app.post("/_sandbox/faults")
    def set_faults() -> Response:
        faults = parse_faults(request.get_json(silent=True))
        with state.lock:
            state.faults = faults
            state.fault_dice.seed(faults.seed)
        return json_response(vars(faults))

    @app.post("/_sandbox/expire-tokens")
    def expire_tokens() -> Response:
        return json_response({"expired": oauth.expire_access_tokens(state)})

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        state.reset()
        return json_response({"status": "reset"})

    @app.post("/_sandbox/apps")
    def register_app() -> Response:
        body = request.get_json(silent=True) or {}
        if not body.get("client_id") or not body.get("client_secret"):
            raise bad_request("client_id and client_secret are required")
        app_ = App(str(body["client_id"]), str(body["client_secret"]), body.get("redirect_uri"))
        with state.change():
            state.apps[app_.client_id] = app_
        return json_response(vars(app_), 201)

    return app


def item_skus(item: dict[str, Any]) -> set[str]:
    """The seller's SKUs of an item: `seller_custom_field` and the SELLER_SKU attribute."""
    skus = {
        attribute.get("value_name") for attribute in item["attributes"] if attribute["id"] == "SELLER_SKU"
    }
    skus.add(item.get("seller_custom_field"))
    return {sku for sku in skus if sku}


def parse_faults(body: Any) -> Faults:
    if not isinstance(body, dict):
        raise bad_request("a JSON object is required")
    faults = Faults(
        latency_ms=body.get("latency_ms", 0),
        status_429_share=body.get("status_429_share", 0.0),
        status_500_share=body.get("status_500_share", 0.0),
        seed=body.get("seed"),
        paths=body.get("paths") or [],
    )
    shares_ok = all(
        isinstance(share, int | float) and 0 <= share <= 1
        for share in (faults.status_429_share, faults.status_500_share)
    )
    if (
        not isinstance(faults.latency_ms, int)
        or faults.latency_ms < 0
        or not shares_ok
        or faults.status_429_share + faults.status_500_share > 1
        or not (faults.seed is None or isinstance(faults.seed, int))
        or not all(isinstance(path, str) for path in faults.paths)
    ):
        raise bad_request(
            "latency_ms >= 0, shares between 0 and 1 (sum <= 1), seed an integer, paths strings"
        )
    return faults
