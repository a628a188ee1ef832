"""OAuth 2.0 as MercadoLibre runs it (autenticacion-y-autorizacion page).

Authorization codes (`TG-...`) are single-use and live 10 minutes; access tokens (`APP_USR-...`)
live 6 hours; refresh tokens (`TG-...`) are single-use and every refresh hands out a new one, so a
refresh token that was already used answers `invalid_grant`. PKCE (S256 or plain) is checked when
the authorization request carried a `code_challenge`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from infra.local.mercadolibre.catalog import SITES
from infra.local.mercadolibre.errors import (
    GRANT_EXPIRED_OR_USED,
    ApiError,
    bad_request,
    invalid_grant,
    invalid_token,
)
from infra.local.mercadolibre.state import (
    ACCESS_TOKEN_SECONDS,
    AUTHORIZATION_CODE_SECONDS,
    CLASSIC,
    REFRESH_TOKEN_SECONDS,
    SELLER_KINDS,
    USER_PRODUCTS,
    Grant,
    SandboxState,
    Seller,
)

SCOPE = "offline_access read write"
# What a seller with incomplete account data must still complete (the codes of a real answer).
PENDING_DATA = ["address_pending", "phone_pending"]


def invalid_client() -> ApiError:
    # oauth/java-sdk_authorization_bad_request.json
    return ApiError(400, "invalid_client", "invalid client_id or client_secret.")


def check_authorization_request(state: SandboxState, params: dict[str, str]) -> None:
    """What MercadoLibre refuses before showing its sign-in page."""
    if params.get("response_type") != "code":
        raise ApiError(400, "invalid_request", "response_type must be code")
    app = state.apps.get(params.get("client_id", ""))
    if app is None:
        raise ApiError(400, "invalid_client", "invalid client_id")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri.startswith(("http://", "https://")):
        raise ApiError(400, "invalid_request", "redirect_uri must be an absolute http(s) URL")
    if app.redirect_uri is not None and redirect_uri != app.redirect_uri:
        raise ApiError(400, "invalid_request", "redirect_uri does not match the application's")
    if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in ("S256", "plain"):
        raise ApiError(400, "invalid_request", "code_challenge_method must be S256 or plain")


def sign_in(
    state: SandboxState,
    params: dict[str, str],
    nickname: str,
    site_id: str,
    kind: str = CLASSIC,
    data_pending: bool = False,
) -> str:
    """The test seller (created on first sign-in; its kind and account data as chosen on the page
    each time) grants the app: returns the authorization code."""
    check_authorization_request(state, params)
    nickname = nickname.strip().upper() or "TESTSELLER"
    if site_id not in SITES:
        raise bad_request(f"site_id must be one of {', '.join(SITES)}")
    if kind not in SELLER_KINDS:
        raise bad_request(f"kind must be one of {', '.join(SELLER_KINDS)}")
    with state.change():
        seller = next(
            (s for s in state.sellers.values() if s.nickname == nickname and s.site_id == site_id), None
        )
        if seller is None:
            registered = datetime.fromtimestamp(state.clock(), UTC).isoformat(timespec="milliseconds")
            seller = Seller(state.new_user_id(), nickname, site_id, registered)
            state.sellers[seller.id] = seller
        seller.kind = kind
        seller.list_codes = list(PENDING_DATA) if data_pending else []
        code = state.new_token("TG", seller.id)
        state.codes[code] = Grant(
            user_id=seller.id,
            client_id=params["client_id"],
            expires_at=state.clock() + AUTHORIZATION_CODE_SECONDS,
            redirect_uri=params["redirect_uri"],
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=(
                params.get("code_challenge_method", "plain") if params.get("code_challenge") else None
            ),
        )
    return code


def token(state: SandboxState, form: dict[str, str]) -> dict[str, Any]:
    """`POST /oauth/token` for both grant types."""
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise ApiError(
            400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
        )
    app = state.apps.get(form.get("client_id", ""))
    if app is None or not hmac.compare_digest(app.client_secret, form.get("client_secret", "")):
        raise invalid_client()
    with state.change():
        if grant_type == "authorization_code":
            grant = _redeem_code(state, form)
        else:
            grant = _redeem_refresh_token(state, form)
        now = state.clock()
        issued = time.strftime("%m%d%H", time.gmtime(now))
        access_token = f"APP_USR-{app.client_id}-{issued}-{secrets.token_hex(16)}-{grant.user_id}"
        refresh_token = state.new_token("TG", grant.user_id)
        state.access_tokens[access_token] = Grant(grant.user_id, app.client_id, now + ACCESS_TOKEN_SECONDS)
        state.refresh_tokens[refresh_token] = Grant(grant.user_id, app.client_id, now + REFRESH_TOKEN_SECONDS)
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": SCOPE,
        "user_id": grant.user_id,
        "refresh_token": refresh_token,
    }


def _redeem_code(state: SandboxState, form: dict[str, str]) -> Grant:
    for required in ("code", "redirect_uri"):
        if not form.get(required):
            raise ApiError(400, "invalid_request", f"{required} is required")
    grant = state.codes.pop(form["code"], None)  # single use, even when the exchange then fails
    if grant is None or grant.client_id != form["client_id"] or grant.expires_at <= state.clock():
        raise invalid_grant(GRANT_EXPIRED_OR_USED)
    if grant.redirect_uri != form["redirect_uri"]:
        raise invalid_grant("redirect_uri does not match the one of the authorization request")
    if grant.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        if grant.code_challenge_method == "S256":
            digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        else:
            expected = verifier
        if not verifier or not hmac.compare_digest(expected, grant.code_challenge):
            raise invalid_grant("code_verifier does not match the code_challenge")
    return grant


def _redeem_refresh_token(state: SandboxState, form: dict[str, str]) -> Grant:
    grant = state.refresh_tokens.pop(form.get("refresh_token", ""), None)
    if grant is None or grant.client_id != form["client_id"] or grant.expires_at <= state.clock():
        raise invalid_grant(GRANT_EXPIRED_OR_USED)
    return grant


def authenticate(state: SandboxState, authorization: str | None) -> Seller:
    """The seller behind `Authorization: Bearer APP_USR-...`."""
    scheme, _, access_token = (authorization or "").partition(" ")
    with state.lock:
        grant = state.access_tokens.get(access_token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires_at <= state.clock() or grant.user_id not in state.sellers:
            raise invalid_token()
        return state.sellers[grant.user_id]


def expire_access_tokens(state: SandboxState) -> int:
    with state.change():
        now = state.clock()
        for grant in state.access_tokens.values():
            grant.expires_at = min(grant.expires_at, now)
        return len(state.access_tokens)


def seller_json(seller: Seller) -> dict[str, Any]:
    """`/users/me`, in the shape of the documented one (producto-consulta-usuarios, "Consultar mis
    datos personales", a test user); a User Products seller carries the `user_product_seller` tag
    (precio-variacion), a seller who cannot list says why in `status.list`
    (validar-datos-de-vendedores), with the address and phone it has not given empty."""
    country, domain = (
        ("AR", "mercadolibre.com.ar") if seller.site_id == "MLA" else ("BR", "mercadolivre.com.br")
    )
    allowed = {"allow": True, "codes": [], "immediate_payment": {"required": False, "reasons": []}}
    pending = bool(seller.list_codes)
    return {
        "id": seller.id,
        "nickname": seller.nickname,
        "registration_date": seller.registration_date,
        "first_name": "Test",
        "last_name": "Seller",
        "country_id": country,
        "email": f"test_user_{seller.id}@testuser.com",
        "identification": {"type": "DNI" if country == "AR" else "CPF", "number": "1111111"},
        "address": {
            "state": "" if pending else ("AR-C" if country == "AR" else "BR-SP"),
            "city": "" if pending else ("Palermo" if country == "AR" else "São Paulo"),
            "address": "" if pending else "Test Address 123",
            "zip_code": "" if pending else ("1414" if country == "AR" else "01234100"),
        },
        "phone": {
            "area_code": "" if pending else "01",
            "number": "" if pending else "1111-1111",
            "extension": "",
            "verified": False,
        },
        "alternative_phone": {"area_code": "", "number": "", "extension": ""},
        "user_type": "normal",
        "tags": [
            "normal",
            "test_user",
            "user_info_verified",
            *(["user_product_seller"] if seller.kind == USER_PRODUCTS else []),
        ],
        "logo": None,
        "points": 100,
        "site_id": seller.site_id,
        "permalink": f"http://perfil.{domain}/{seller.nickname}",
        "seller_experience": "ADVANCED",
        "seller_reputation": {
            "level_id": None,
            "power_seller_status": None,
            "transactions": {
                "period": "historic",
                "total": 0,
                "completed": 0,
                "canceled": 0,
                "ratings": {"positive": 0, "negative": 0, "neutral": 0},
            },
        },
        "buyer_reputation": {
            "canceled_transactions": 0,
            "transactions": {
                "period": "historic",
                "total": None,
                "completed": None,
                "canceled": {"total": None, "paid": None},
                "unrated": {"total": None, "paid": None},
                "not_yet_rated": {"total": None, "paid": None, "units": None},
            },
            "tags": [],
        },
        "status": {
            "site_status": "active",
            "list": {**allowed, "allow": not pending, "codes": list(seller.list_codes)},
            "buy": allowed,
            "sell": allowed,
            "billing": {"allow": True, "codes": []},
            "mercadopago_tc_accepted": True,
            "mercadopago_account_type": "personal",
            "mercadoenvios": "not_accepted",
            "immediate_payment": False,
            "confirmed_email": True,
            "user_type": "eventual",
            "required_action": "",
        },
        "credit": {"consumed": 100, "credit_level_id": f"{seller.site_id}1"},
    }
