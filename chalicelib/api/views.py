"""Records as the API answers them: the response models of chalicelib.api.schemas, with short-lived links.

The services return records (chalicelib.domain.records) and know nothing of HTTP; this is where a
record becomes JSON for the panel: links to the photos are signed here, numbers get their bands.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib import clock
from chalicelib.api.schemas import (
    ConnectOut,
    EventOut,
    EventsOut,
    ImageOut,
    ItemOut,
    ListingAttribute,
    ListingConfidence,
    ListingHistory,
    ListingOut,
    ListingVersionSummary,
    MainPicture,
    MarketplaceAccountOut,
    PhotoQuality,
    ProductOut,
    ProductPage,
    Reason,
    SettingsOut,
    TokensOut,
    UploadForm,
    UserOut,
)
from chalicelib.domain.confidence import band
from chalicelib.domain.records import (
    Event,
    Image,
    ListingVersion,
    MarketplaceAccount,
    Product,
    Seller,
)
from chalicelib.listings import ListingDetail
from chalicelib.marketplace.connection import ConnectLink
from chalicelib.pipeline import seller_main_choice
from chalicelib.products import ProductDetail
from chalicelib.sellers import Tokens
from chalicelib.store import blobs

# -- sellers -------------------------------------------------------------------------------------------


def user_out(seller: Seller) -> UserOut:
    return UserOut(
        user_id=seller.user_id,
        email=seller.email,
        created_at=seller.created_at,
        settings=SettingsOut(
            auto_publish=seller.auto_publish,
            publish_threshold=seller.publish_threshold,
            site=seller.site,
            listing_type=seller.listing_type,
            default_quantity=seller.default_quantity,
        ),
    )


def tokens_out(tokens: Tokens) -> TokensOut:
    return TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        user=user_out(tokens.seller),
    )


# -- MercadoLibre --------------------------------------------------------------------------------------


def connect_out(link: ConnectLink) -> ConnectOut:
    return ConnectOut(authorization_url=link.authorization_url, expires_at=link.expires_at)


def account_out(account: MarketplaceAccount) -> MarketplaceAccountOut:
    return MarketplaceAccountOut(
        ml_user_id=account.ml_user_id,
        nickname=account.nickname,
        site=account.site,
        status=account.status,  # type: ignore[arg-type]
        access_expires_at=clock.at(account.access_expires_at),
        valid=account.status == "connected",
        problem=account.problem,
        connected_at=account.connected_at,
        user_products=account.user_products,
    )


# -- products ------------------------------------------------------------------------------------------


def product_out(detail: ProductDetail) -> ProductOut:
    """A product with its photos (and their upload forms, or its timeline, when the detail has them)."""
    return _product_out(detail.product, detail.images, detail.upload_forms, detail.events, blobs.Links())


def products_page(products: list[Product], cursor: str | None) -> ProductPage:
    link = blobs.Links()
    return ProductPage(items=[_product_out(p, None, {}, None, link) for p in products], next=cursor)


def _product_out(
    product: Product,
    images: list[Image] | None,
    upload_forms: dict[str, dict[str, Any]],
    events: list[Event] | None,
    link: blobs.Links,
) -> ProductOut:
    current = product.pictures_revision == product.revision
    chosen = product.chosen_main_image_id if current else None
    explicit = seller_main_choice(product, images) if images is not None else product.main_image_id
    main = chosen or explicit
    return ProductOut(
        product_id=product.product_id,
        status=product.status,
        prompt=product.prompt,
        revision=product.revision,
        title=product.title,
        confidence=product.confidence,
        confidence_band=band(product.confidence) if product.confidence is not None else None,
        thumbnail_url=link(product.thumbnail_key) if product.thumbnail_key else None,
        main_image_id=main,
        main_picture=_main_picture_out(product, images, link) if current and images is not None else None,
        current_version=product.current_version,
        paused=product.paused,
        item=ItemOut(**{k: v for k, v in product.item.items() if k in ItemOut.model_fields})
        if product.item
        else None,
        attention=Reason(**product.attention) if product.attention else None,
        created_at=product.created_at,
        updated_at=product.updated_at,
        images=[_image_out(image, main, upload_forms.get(image.image_id), link) for image in images]
        if images is not None
        else None,
        events=[event_out(event) for event in events] if events is not None else None,
    )


def _main_picture_out(product: Product, images: list[Image], link: blobs.Links) -> MainPicture | None:
    original = next((i for i in images if i.image_id == product.chosen_main_image_id), None)
    if not product.main_picture_key or original is None:
        return None
    about = product.main_picture or {}
    return MainPicture(
        url=link(product.main_picture_key),
        original_url=link(original.original_key),
        image_id=original.image_id,
        reason=Reason(**(product.main_choice or {"code": "UNKNOWN", "message": ""})),
        provider=str(about.get("provider", "")),
        model=str(about.get("model", "")),
        fallback=_fallback(about),
    )


def _fallback(about: dict[str, Any]) -> Reason | None:
    """Why the main picture is not what the configured remover would have made, if it is not."""
    if about.get("whole_photo"):
        return Reason(
            code="WHOLE_PHOTO_FRAMED",
            message="no product stood out from the background, so the whole photo is framed on white",
        )
    if not about.get("fallback_from"):
        return None
    provider, cause = about["fallback_from"]
    return Reason(
        code="BACKGROUND_FALLBACK",
        message=f"{provider} could not cut this photo out ({cause}); the local remover did",
        params={"provider": provider, "cause": cause},
    )


def _image_out(image: Image, main_id: str | None, form: dict[str, Any] | None, link: blobs.Links) -> ImageOut:
    return ImageOut(
        image_id=image.image_id,
        position=image.position,
        status=image.status,  # type: ignore[arg-type]
        file_name=image.file_name,
        is_main=image.image_id == main_id,
        format=image.format,
        width=image.width,
        height=image.height,
        bytes=image.bytes,
        rejection=Reason(**image.rejection) if image.rejection else None,
        quality=PhotoQuality(**image.quality) if image.quality else None,
        url=link(image.original_key) if image.status == "accepted" else None,
        thumbnail_url=link(image.thumbnail_key) if image.thumbnail_key else None,
        upload=UploadForm(**form) if form else None,
    )


def event_out(event: Event) -> EventOut:
    return EventOut(**dataclasses.asdict(event))


def events_out(events: list[Event], product: Product) -> EventsOut:
    return EventsOut(events=[event_out(e) for e in events], status=product.status)


# -- listings ------------------------------------------------------------------------------------------


def listing_out(listing: ListingDetail | ListingVersion) -> ListingOut:
    detail = listing if isinstance(listing, ListingDetail) else ListingDetail(listing)
    version = detail.version
    confidence = version.confidence
    return ListingOut(
        version=version.version,
        revision=version.revision,
        source=version.source,
        title=version.title,
        description=version.description,
        category=version.category,
        category_alternatives=version.category_alternatives,
        other_titles=version.other_titles,
        attributes=[ListingAttribute(**a) for a in version.attributes],
        missing_required=version.missing_required,
        condition=version.condition,
        confidence=ListingConfidence(
            overall=confidence["overall"],
            band=band(confidence["overall"]),
            parts=confidence["parts"],
            reasons=confidence.get("reasons", []),
        ),
        edited=version.edited,
        provider=str(version.usage.get("provider", "seller")),
        model=str(version.usage.get("model", "")),
        created_at=version.created_at,
        sheet=detail.sheet,
    )


def history_out(product: Product, versions: list[ListingVersion]) -> ListingHistory:
    return ListingHistory(
        versions=[
            ListingVersionSummary(
                version=v.version,
                revision=v.revision,
                source=v.source,
                title=v.title,
                confidence=v.overall,
                edited=v.edited,
                created_at=v.created_at,
                current=v.version == product.current_version,
            )
            for v in versions
        ]
    )
