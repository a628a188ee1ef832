"""The MercadoLibre sandbox as a Flask app: the endpoints IntelliPost calls, in MercadoLibre's words.

Every answer carries `X-Sandbox: intellipost-local` and an `x-request-id` (as MercadoLibre's
answers do: categorias-y-atributos shows one); every error has one of MercadoLibre's shapes
(errors.py), unknown routes included. `/_sandbox/*` is the test harness (health, scripted answers,
token expiry, reset, apps and their notifications, statuses and sales MercadoLibre would cause)
and never gets a scripted answer.
"""

from __future__ import annotations

import html
import uuid
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, redirect, request
from werkzeug import Response as Redirect
from werkzeug.exceptions import HTTPException

from infra.local.mercadolibre import items, listing_rules, oauth, pictures
from infra.local.mercadolibre.answers import SANDBOX_HEADER, ScriptedAnswers, parse_faults
from infra.local.mercadolibre.catalog import SITES, load_catalog
from infra.local.mercadolibre.errors import ApiError, bad_request, forbidden, not_found, validation_error
from infra.local.mercadolibre.notifications import Notifier
from infra.local.mercadolibre.predictor import DEFAULT_LIMIT, MAX_LIMIT, CategoryPredictor
from infra.local.mercadolibre.state import CLASSIC, USER_PRODUCTS, App, SandboxState, Seller

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
<label>{kind} <select name="kind">
<option value="{classic}">{kind_classic}</option>
<option value="{user_products}">{kind_user_products}</option>
</select></label>
<label><input type="checkbox" name="data_pending" value="1"> {data_pending}</label>
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
        "kind": "Tipo de vendedor de prueba",
        "kind_classic": "clásico (publica con título)",
        "kind_user_products": "User Products (etiqueta user_product_seller: family_name, sin título)",
        "data_pending": "datos de la cuenta incompletos (domicilio y teléfono pendientes: "
        "MercadoLibre no lo deja publicar)",
    },
    "pt": {
        "title": "Sandbox do Mercado Livre (local)",
        "heading": "Sandbox do Mercado Livre: é local, não é o Mercado Livre",
        "asks": "O aplicativo <b>{client_id}</b> pede para publicar em nome de um vendedor de teste local.",
        "nickname": "Apelido",
        "site": "País",
        "submit": "Entrar e autorizar",
        "kind": "Tipo de vendedor de teste",
        "kind_classic": "clássico (anuncia com título)",
        "kind_user_products": "User Products (tag user_product_seller: family_name, sem título)",
        "data_pending": "dados da conta incompletos (endereço e telefone pendentes: "
        "o Mercado Livre não deixa anunciar)",
    },
    "en": {
        "title": "MercadoLibre sandbox (local)",
        "heading": "MercadoLibre sandbox: local, not MercadoLibre",
        "asks": "The application <b>{client_id}</b> asks to publish on behalf of a local test seller.",
        "nickname": "Nickname",
        "site": "Site",
        "submit": "Sign in and authorize",
        "kind": "Kind of test seller",
        "kind_classic": "classic (lists with a title)",
        "kind_user_products": "User Products (tag user_product_seller: family_name, no title)",
        "data_pending": "account data incomplete (address and phone pending: "
        "MercadoLibre will not let it list)",
    },
}


@cache
def load_predictor() -> CategoryPredictor:
    return CategoryPredictor(load_catalog())


def create_app(state: SandboxState) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.wsgi_app = ScriptedAnswers(app.wsgi_app, state)  # type: ignore[method-assign]
    catalog = load_catalog()
    predictor = load_predictor()
    notifier = Notifier(state)
    app.extensions["notifier"] = notifier

    def json_response(body: Any, status: int = 200) -> Response:
        response = jsonify(body)
        response.status_code = status
        return response

    def signed_in_seller() -> Seller:
        return oauth.authenticate(state, request.headers.get("Authorization"))

    def stored_item(item_id: str) -> dict[str, Any]:
        with state.lock:
            item = state.items.get(item_id)
        if item is None:
            raise not_found(f"Item with id {item_id} not found")
        return item

    def own_item(item_id: str) -> tuple[Seller, dict[str, Any]]:
        seller = signed_in_seller()
        item = stored_item(item_id)
        if item["seller_id"] != seller.id:
            raise forbidden()
        return seller, item

    def save_item(item: dict[str, Any]) -> None:
        with state.change():
            state.items[item["id"]] = item
        notifier.item_changed(item)

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

    @app.after_request
    def mark_local(response: Response) -> Response:
        response.headers[SANDBOX_HEADER[0]] = SANDBOX_HEADER[1]
        response.headers["x-request-id"] = str(uuid.uuid4())
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
        page = SIGN_IN_PAGE.format(
            lang=lang,
            hidden=hidden,
            classic=CLASSIC,
            user_products=USER_PRODUCTS,
            **{**words, "asks": asks},
        )
        headers = {"Content-Language": lang, "Vary": "Accept-Language"}
        return Response(page, mimetype="text/html", headers=headers)

    @app.post("/authorization")
    def authorize() -> Redirect:
        params = {name: request.form[name] for name in OAUTH_PARAMS if name in request.form}
        code = oauth.sign_in(
            state,
            params,
            request.form.get("nickname", ""),
            request.form.get("site_id", "MLA"),
            request.form.get("kind", CLASSIC),
            bool(request.form.get("data_pending")),
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
        listing_rules.check_seller(body, seller)
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
            if plain_text is not None:
                state.descriptions[item["id"]] = listing_rules.description_json(plain_text, state)
        save_item(item)
        return json_response(item, 201)

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> Response:
        # Public: anyone may read an item; only the owner's token shows its stock and channels.
        seller = signed_in_seller() if request.headers.get("Authorization") else None
        item = stored_item(item_id)
        return json_response(
            item if seller is not None and seller.id == item["seller_id"] else items.public_view(item)
        )

    @app.put("/items/<item_id>")
    def update_item(item_id: str) -> Response:
        seller, item = own_item(item_id)
        changed = items.update(item, request.get_json(silent=True), seller, catalog, state, request.host_url)
        save_item(changed)
        return json_response(changed)

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
        save_item({**item, "last_updated": description["last_updated"]})
        return json_response(description, 201 if request.method == "POST" else 200)

    @app.get("/users/<int:user_id>/items/search")
    def seller_items(user_id: int) -> Response:
        seller = signed_in_seller()
        if seller.id != user_id:
            raise forbidden()
        with state.lock:
            stored = list(state.items.values())
        return json_response(items.search(stored, user_id, request.args.to_dict()))

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
        return json_response(
            {
                "answers": [vars(answer) for answer in faults.answers],
                "latency_ms": faults.latency_ms,
                "seed": faults.seed,
            }
        )

    @app.post("/_sandbox/expire-tokens")
    def expire_tokens() -> Response:
        return json_response({"expired": oauth.expire_access_tokens(state)})

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        state.reset()
        return json_response({"status": "reset"})

    @app.post("/_sandbox/apps")
    def register_app() -> Response:
        """Register an app, or change one (its secret must match): its redirect URI, and where its
        notifications go (`notifications_url`, `topics`, "items" by default)."""
        body = request.get_json(silent=True) or {}
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if not client_id or not secret:
            raise bad_request("client_id and client_secret are required")
        url, topics = (
            body.get("notifications_url"),
            body.get("topics", ["items"] if body.get("notifications_url") else []),
        )
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise bad_request("notifications_url must be an http(s) URL")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise bad_request("topics must be a list of topic names")
        with state.change():
            known = state.apps.get(str(client_id))
            if known is not None and known.client_secret != str(secret):
                raise bad_request("that client_id is registered with another secret")
            app_ = App(str(client_id), str(secret), body.get("redirect_uri"), url, topics)
            state.apps[app_.client_id] = app_
        return json_response(vars(app_), 200 if known else 201)

    @app.get("/_sandbox/notifications")
    def notifications_sent() -> Response:
        """Every delivery attempt so far: `{url, body, status}` (the receiver's answer; 0 unreachable)."""
        return json_response(list(notifier.sent))

    @app.post("/_sandbox/items/<item_id>/status")
    def moderate_item(item_id: str) -> Response:
        """What MercadoLibre does to an item: `{"status": "under_review", "sub_status": [...]}`."""
        changed = items.set_status(stored_item(item_id), request.get_json(silent=True), state)
        save_item(changed)
        return json_response(changed)

    @app.post("/_sandbox/items/<item_id>/sales")
    def sell_item(item_id: str) -> Response:
        """A buyer buys `{"quantity": n}` units."""
        changed = items.sell(stored_item(item_id), request.get_json(silent=True), state)
        save_item(changed)
        return json_response(changed)

    return app
