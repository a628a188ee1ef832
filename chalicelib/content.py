"""The content step: what the content function does with `jobs/content/{product}/{revision}.json`.

Reads the product (photos, packaging text, prompt), finds its MercadoLibre category, fills the
category's technical sheet, writes title and description, scores its confidence and saves a new
listing version. The seller's edited fields survive a regeneration. A failed provider leaves the
last good version current and the product `failed` with a reason and a retry; a job for an older
revision is dropped; a duplicate delivery writes no second version.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import clock, timeline
from chalicelib.domain.confidence import Confidence, listing_confidence
from chalicelib.domain.listing import (
    DEFAULT_TITLE_LIMIT,
    attribute_entry,
    description_problems,
    normalise_value,
    required_ids,
    tidy_description,
    tidy_title,
    title_problems,
)
from chalicelib.domain.product import ProductStatus, move
from chalicelib.domain.search import fold, search_text
from chalicelib.domain.sites import currency_of
from chalicelib.http import ApiError
from chalicelib.marketplace import catalog
from chalicelib.observability import count, logger
from chalicelib.pictures import full_decode
from chalicelib.pipeline import current_version, fail, images_of, product_for_job, status_actions
from chalicelib.providers.listing import (
    AttributeGuess,
    ListingWriter,
    ListingWriterFailed,
    Photo,
    ProductFacts,
    Usage,
    listing_writer,
)
from chalicelib.publisher import record_approval
from chalicelib.storage import blobs
from chalicelib.storage.models import ListingVersion, MarketplaceAccount, Product, User

READ_SIDE = 1024  # photos go to the writer at this long side: enough to read a label, cheap in tokens
MAX_PHOTOS = 4
# Fields the seller can edit; a regeneration keeps the ones they edited.
EDITABLE = ("title", "description", "category", "attributes", "condition")


def process_content_job(key: str) -> None:
    job = json.loads(blobs.read(key))
    revision = int(job["revision"])
    product = product_for_job(job, key)
    if product is None:
        return
    done = _version_for(product.product_id, revision)
    if done is not None:
        logger.info("content job already done; duplicate delivery", extra={"key": key})
        if int(product.current_version) < int(done.version):
            _publish_or_wait(product, done)  # the delivery that wrote it stopped before this
        return
    site = User.get(product.user_id).site
    timeline.record(
        product.product_id, "content", "READING_PRODUCT", "reading your photos and prompt", percent=70
    )
    try:
        version = _write_listing(product, job, site)
    except ListingWriterFailed as error:
        fail(product, "content", error.code, str(error), {"retry": error.retryable}, revision)
        return
    except ApiError as error:  # MercadoLibre's categories did not answer
        fail(product, "content", error.code, error.message, {"retry": True}, revision)
        return
    except _Duplicate:
        logger.info("content job already done; duplicate delivery", extra={"key": key})
        return
    count("ListingsGenerated", 1, MetricUnit.Count, source=version.usage["provider"])
    # The writer's calls for this listing (Gemini's tokens at the configured prices; 0 for local).
    count("AiCostUsd", float(version.usage["cost_usd"]), MetricUnit.NoUnit)
    _publish_or_wait(product, version)


def _version_for(product_id: str, revision: int) -> ListingVersion | None:
    for version in ListingVersion.query(product_id, scan_index_forward=False, consistent_read=True):
        if int(version.revision) == revision and version.source == "generated":
            return version
    return None


def _photos(job: dict[str, Any]) -> list[Photo]:
    photos = []
    main_cutout = full_decode(blobs.read(job["main_picture_key"]), READ_SIDE)
    for item in sorted(job["images"], key=lambda i: (i["image_id"] != job["main_image_id"], i["position"]))[
        :MAX_PHOTOS
    ]:
        try:
            image = full_decode(blobs.read(item["key"]), READ_SIDE)
        except ClientError:
            logger.info("photo gone since the images step; reading the others", extra={"key": item["key"]})
            continue
        is_main = item["image_id"] == job["main_image_id"]
        photos.append(Photo(item["image_id"], image, is_main, main_cutout if is_main else None))
    return photos


@dataclass
class Draft:
    """A listing before it is saved: what the writer and the rules made of the product."""

    title: str
    description: str
    category: dict[str, Any]
    alternatives: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    missing_required: list[str]
    condition: str | None
    facts: ProductFacts
    confidence: Confidence
    usage: Usage


class CategorySource(Protocol):
    """MercadoLibre's categories: the cached catalog in the functions, the bare client in `make eval`."""

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]: ...

    def category(self, category_id: str) -> dict[str, Any]: ...

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]: ...


def compose_listing(
    writer: ListingWriter,
    categories: CategorySource,
    prompt: str,
    photos: list[Photo],
    site: str,
    *,
    main_quality: float | None = None,
    kept: dict[str, Any] | None = None,
    on_step: Callable[[str], None] = lambda step: None,
) -> Draft:
    """Read, categorise, fill the sheet, write, apply the rules, score. `kept`: the seller's edited
    fields (by name), which stay theirs until they ask for them to be regenerated."""
    started = time.perf_counter()
    kept = kept or {}
    facts, usage = writer.read(prompt, photos, site)
    on_step("CHOOSING_CATEGORY")
    category, alternatives, category_score = _category(categories, facts, prompt, site)
    if "category" in kept:
        category, category_score = kept["category"], 1.0
    schema = categories.category_attributes(category["id"])
    guesses, more = writer.fill_attributes(facts, schema, photos, site)
    usage = usage.plus(more)
    attributes = kept.get("attributes") or _valid_attributes(schema, guesses)
    on_step("WRITING_TITLE")
    copy, more = writer.write(
        facts,
        category["name"],
        [AttributeGuess(**_guess(a)) for a in attributes],
        site,
        category["title_limit"],
    )
    usage = usage.plus(more)
    title = kept.get("title") or tidy_title(copy.title, category["title_limit"])
    description = kept.get("description") or tidy_description(copy.description)
    condition = kept.get("condition") or (facts.condition.value if facts.condition else None)
    required = required_ids(schema)
    filled = {a["id"] for a in attributes}
    confidence = listing_confidence(
        category=category_score,
        required=required,
        filled=filled,
        title_problems=len(title_problems(title, category["title_limit"])),
        title_has_brand=facts.brand is not None and fold(facts.brand.value) in fold(title),
        description_problems=len(description_problems(description)),
        templated_description=usage.provider == "local" and "description" not in kept,
        main_image_quality=main_quality,
    )
    usage = dataclasses.replace(usage, milliseconds=round((time.perf_counter() - started) * 1000, 1))
    return Draft(
        title,
        description,
        category,
        alternatives,
        attributes,
        [a for a in required if a not in filled],
        condition,
        facts,
        confidence,
        usage,
    )


def _write_listing(product: Product, job: dict[str, Any], site: str) -> ListingVersion:
    previous = current_version(product)
    edited = list(previous.edited) if previous is not None else []
    kept = {name: getattr(previous, name) for name in edited} if previous is not None else {}
    main_quality = next(
        (i.get("quality", {}).get("score") for i in job["images"] if i["image_id"] == job["main_image_id"]),
        None,
    )
    labels = {"CHOOSING_CATEGORY": ("choosing the category", 78), "WRITING_TITLE": ("writing your title", 88)}

    def say(step: str) -> None:
        timeline.record(product.product_id, "content", step, labels[step][0], percent=labels[step][1])

    draft = compose_listing(
        listing_writer(),
        catalog,
        product.prompt,
        _photos(job),
        site,
        main_quality=main_quality,
        kept=kept,
        on_step=say,
    )
    version = ListingVersion(
        product_id=product.product_id,
        version=_latest_number(product.product_id) + 1,
        revision=int(job["revision"]),
        source="generated",
        title=draft.title,
        description=draft.description,
        category=draft.category,
        category_alternatives=draft.alternatives,
        attributes=draft.attributes,
        missing_required=draft.missing_required,
        condition=draft.condition,
        facts=_facts_json(draft.facts),
        confidence={
            "overall": draft.confidence.overall,
            "parts": draft.confidence.parts,
            "reasons": [asdict(r) for r in draft.confidence.reasons],
        },
        edited=edited,
        main_picture_key=job["main_picture_key"],
        usage=asdict(draft.usage),
        created_at=clock.now(),
    )
    try:
        version.save(condition=ListingVersion.version.does_not_exist())
    except PutError:
        raise _Duplicate() from None
    # Two deliveries running at once both pass the check at the start and save consecutive numbers:
    # the lowest number for the revision is the one, a later one steps back.
    if any(
        int(other.version) < int(version.version)
        for other in ListingVersion.query(product.product_id, consistent_read=True)
        if int(other.revision) == int(version.revision) and other.source == "generated"
    ):
        version.delete()
        raise _Duplicate()
    return version


class _Duplicate(Exception):
    """Another delivery of the same job saved the version first."""


def _latest_number(product_id: str) -> int:
    latest = next(
        iter(ListingVersion.query(product_id, scan_index_forward=False, limit=1, consistent_read=True)), None
    )
    return int(latest.version) if latest is not None else 0


def _category(
    categories: CategorySource, facts: ProductFacts, prompt: str, site: str
) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """The first predicted leaf where listing is allowed, the others as alternatives, and how sure."""
    words = [f.value for f in (facts.product, facts.brand, facts.model) if f is not None]
    query = " ".join(words) or prompt
    predictions = categories.predict_categories(site, query, 5)
    chosen: dict[str, Any] | None = None
    alternatives: list[dict[str, Any]] = []
    for prediction in predictions:
        detail = categories.category(prediction["category_id"])
        settings = detail.get("settings") or {}
        entry = {
            "id": detail["id"],
            "name": detail["name"],
            "path": " > ".join(p["name"] for p in detail.get("path_from_root", [])),
            "title_limit": int(settings.get("max_title_length") or DEFAULT_TITLE_LIMIT),
        }
        if chosen is None and settings.get("listing_allowed", True):
            chosen = entry
        else:
            alternatives.append(entry)
    if chosen is None:
        raise ApiError(
            502, "CATEGORY_NOT_FOUND", "MercadoLibre suggested no category where this can be listed"
        )
    # Sure when the product's own words name the category; less when only the brand or model led there.
    named = facts.product is not None and any(
        word[:5] in fold(chosen["name"] + " " + chosen["path"])
        for word in fold(facts.product.value).split()
        if len(word) > 3
    )
    return chosen, alternatives, 0.9 if named else 0.65


def _valid_attributes(schema: list[dict[str, Any]], guesses: list[AttributeGuess]) -> list[dict[str, Any]]:
    by_id = {d["id"]: d for d in schema}
    kept: dict[str, dict[str, Any]] = {}
    for guess in guesses:
        definition = by_id.get(guess.id)
        if definition is None or guess.id in kept:
            continue  # not in this category's sheet: nothing invented
        value_id, value_name, problem = normalise_value(definition, guess.value_id, guess.value_name)
        if problem is not None:
            logger.info("attribute value dropped", extra={"attribute": guess.id, "code": problem.code})
            continue
        kept[guess.id] = attribute_entry(definition, value_id, value_name, guess.source, guess.confidence)
    return list(kept.values())


def _guess(attribute: dict[str, Any]) -> dict[str, Any]:
    return {k: attribute[k] for k in ("id", "value_id", "value_name", "source", "confidence")}


def _facts_json(facts: ProductFacts) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(facts)))  # type: ignore[no-any-return]


def _count_upload_to_ready(product_id: str, version: ListingVersion) -> None:
    """UploadToReadySeconds: from the last photo received to this listing being ready. Only when a
    photo arrived since the version before: a prompt edit or a restore is not an upload's wait."""
    received = [i.received_at for i in images_of(product_id) if i.status == "accepted" and i.received_at]
    if not received:
        return
    last = max(received)
    if int(version.version) > 1:
        try:
            if ListingVersion.get(product_id, int(version.version) - 1).created_at >= last:
                return
        except DoesNotExist:
            pass
    count("UploadToReadySeconds", (clock.now() - last).total_seconds(), MetricUnit.Seconds)


def _publish_or_wait(product: Product, version: ListingVersion) -> None:
    """Ready for the seller; or, at or above the seller's auto-publish threshold, approved the same way
    a seller approves (price from the prompt; quantity from the prompt or the seller's default)."""
    overall = float(version.confidence["overall"])
    try:
        product.update(
            actions=[
                *status_actions(product, move(ProductStatus(product.status), ProductStatus.READY)),
                Product.current_version.set(int(version.version)),
                Product.title.set(version.title),
                Product.confidence.set(overall),
                Product.search_text.set(search_text(product.prompt, version.title)),
                Product.attention.remove(),
                Product.updated_at.set(clock.now()),
            ],
            condition=Product.revision == int(version.revision),
        )
    except UpdateError:
        product.refresh(consistent_read=True)
        if product.status == ProductStatus.FAILED.value:
            # Another delivery of this job failed the product meanwhile: the seller's retry applies it.
            logger.info(
                "listing saved; the product failed meanwhile", extra={"product_id": product.product_id}
            )
            return
        if int(product.revision) == int(version.revision) and int(product.current_version) < int(
            version.version
        ):
            # Only the row's version moved (another step touched the product meanwhile): again.
            _publish_or_wait(product, version)
            return
        logger.info("listing outdated while it was written", extra={"product_id": product.product_id})
        return
    _count_upload_to_ready(product.product_id, version)
    timeline.record(
        product.product_id,
        "content",
        "LISTING_READY",
        f"your listing is ready to review ({round(overall * 100)} % confidence)",
        {"version": int(version.version), "confidence": overall},
        percent=100,
    )
    user = User.get(product.user_id)
    if not user.auto_publish or overall < float(user.publish_threshold):
        return
    price = (version.facts.get("price") or {}).get("value")
    quantity = (version.facts.get("quantity") or {}).get("value") or user.default_quantity
    try:
        account = MarketplaceAccount.get(product.user_id)
    except DoesNotExist:
        account = None
    if account is None or not price or not quantity:
        missing = "connect your MercadoLibre account" if account is None else "add the price and quantity"
        product.update(
            actions=[
                Product.attention.set(
                    {
                        "code": "AUTO_PUBLISH_WAITING",
                        "message": f"ready to publish by itself: {missing}",
                        "params": {"confidence": overall, "account": account is not None},
                    }
                )
            ]
        )
        return
    record_approval(
        product,
        version,
        by="auto-publish",
        price=float(str(price).replace(",", ".")),
        quantity=int(float(quantity)),
        currency=currency_of(account.site),
        listing_type=user.listing_type,
        condition=version.condition,
    )
