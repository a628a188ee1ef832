"""The metrics a seller or an operator watches, as the pipeline steps print them (CloudWatch EMF).

The local stage switches metrics off (POWERTOOLS_METRICS_DISABLED); these tests switch them on, run
real steps inside an invocation (as the Chalice middleware does) and read the EMF lines it prints.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from PIL import Image

from chalicelib import observability
from chalicelib.content import process_content_job
from chalicelib.images import process_images_job
from chalicelib.observability import count, in_invocation
from chalicelib.providers.background import BackgroundRemovalFailed
from chalicelib.publish import process_publish_job
from chalicelib.store.models import ListingVersionRow as ListingVersion
from tests.gemini_api import reply
from tests.photoroom_api import photo, remover
from tests.selling import OATLY, approve, ingested, keys, ready_product


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    observability.flush()  # whatever an earlier test left counted
    capsys.readouterr()


def emitted(out: str) -> list[dict[str, Any]]:
    documents = []
    for line in out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def values(documents: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """Every data point of `name` whose dimensions are exactly `service` plus `dimensions`."""
    found: list[float] = []
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        if name not in {metric["Name"] for metric in directive["Metrics"]}:
            continue
        assert directive["Namespace"] == "IntelliPost"
        assert document["service"] == "intellipost"
        if set(directive["Dimensions"][0]) != {"service", *dimensions}:
            continue
        if all(document.get(key) == value for key, value in dimensions.items()):
            value = document[name]
            found += value if isinstance(value, list) else [value]
    return found


def run(name: str, step: Any, key: str) -> None:
    in_invocation(name, f"test-{name}", lambda: step(key))


def test_a_listing_counts_itself_its_cost_and_the_sellers_wait(
    api: Any, sandbox: Any, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seller, product, images_job = ingested(api, OATLY, "leche de avena 1 litro")
    run("images", process_images_job, images_job)
    run("content", process_content_job, f"jobs/content/{product['product_id']}/1.json")
    out = capsys.readouterr().out
    documents = emitted(out)

    assert values(documents, "ListingsGenerated", source="local") == [1.0]
    assert values(documents, "AiCostUsd") == [0.0]  # the local writer costs nothing
    [wait] = values(documents, "UploadToReadySeconds")
    assert 0 < wait < 300
    assert len(values(documents, "ProviderLatencyMs", provider="local_writer")) == 3  # read, fill, write
    assert len(values(documents, "ProviderLatencyMs", provider="local_remover")) == 1
    assert values(documents, "ProviderErrors", provider="local_writer") == []
    # Low cardinality: no id of a product, a seller or a photo is ever a dimension.
    for document in documents:
        assert product["product_id"] not in json.dumps(document)
        assert seller.user_id not in json.dumps(document)

    # A redelivered content job writes no second listing and counts none.
    run("content", process_content_job, f"jobs/content/{product['product_id']}/1.json")
    assert values(emitted(capsys.readouterr().out), "ListingsGenerated", source="local") == []


# Gemini's read: every value from the seller's note, with its evidence.
NOTE_SAYS_IT = {"seen_on": [], "printed_as": None, "in_note": True, "confidence": 0.9}
OAT_FACTS = {
    "brand": {"value": "Oatly", "named_as_brand": False, **NOTE_SAYS_IT},
    "model": None,
    "product": {"value": "Leche de avena", **NOTE_SAYS_IT},
    "condition": None,
    "specs": [{"name": "volume", "value": "1", "unit": "l", **NOTE_SAYS_IT}],
    "colour": None,
    "price": None,
    "quantity": None,
    "packaging_text": ["OATLY"],
}


def test_gemini_s_recorded_cost_is_the_listing_s_ai_cost(
    api: Any,
    sandbox: Any,
    gemini: Any,
    metrics_on: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, product, images_job = ingested(api, OATLY, "leche de avena oatly 1 litro")
    process_images_job(images_job)
    brand = {"id": "BRAND", "value_name": "Oatly", **NOTE_SAYS_IT}
    gemini.script += [
        reply(OAT_FACTS),
        reply({"attributes": [brand]}),
        reply({"title": "Leche De Avena Oatly 1 L", "description": "Leche de avena Oatly de 1 litro."}),
    ]
    capsys.readouterr()
    run("content", process_content_job, f"jobs/content/{product['product_id']}/1.json")
    documents = emitted(capsys.readouterr().out)

    [version] = ListingVersion.query(product["product_id"])
    assert version.usage["provider"] == "gemini" and version.usage["cost_usd"] > 0
    assert values(documents, "AiCostUsd") == [pytest.approx(version.usage["cost_usd"])]
    assert values(documents, "ListingsGenerated", source="gemini") == [1.0]
    assert len(values(documents, "ProviderLatencyMs", provider="gemini")) == len(gemini.seen)


def test_publishing_counts_failures_by_cause_and_successes(
    api: Any, sandbox: Any, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    sandbox.faults({"path": "/items*", "status": 500})
    try:
        capsys.readouterr()
        run("publish", process_publish_job, job)
    finally:
        sandbox.faults()
    documents = emitted(capsys.readouterr().out)
    assert values(documents, "PublishFailed", cause="MERCADOLIBRE_UNAVAILABLE") == [1.0]
    assert values(documents, "PublishSucceeded") == []
    assert values(documents, "ProviderErrors", provider="mercadolibre")

    approve(seller, product_id)  # the seller tries again
    retry = next(k for k in keys(f"jobs/publish/{product_id}/") if k != job)
    run("publish", process_publish_job, retry)
    documents = emitted(capsys.readouterr().out)
    assert values(documents, "PublishSucceeded") == [1.0]
    assert values(documents, "PublishFailed", cause="MERCADOLIBRE_UNAVAILABLE") == []
    assert values(documents, "ProviderLatencyMs", provider="mercadolibre")  # every call it made


def test_a_photoroom_cutout_costs_its_price_and_a_refusal_counts_as_an_error(
    photoroom: Any,
    metrics_on: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    picture: Image.Image = photo()
    in_invocation("images", "test-photoroom", lambda: remover().cutout(picture))
    documents = emitted(capsys.readouterr().out)
    assert values(documents, "AiCostUsd") == [0.02]
    assert len(values(documents, "ProviderLatencyMs", provider="photoroom")) == 1

    photoroom.script.append((402, {}, b'{"detail": "no credits"}'))

    def refused() -> None:
        with pytest.raises(BackgroundRemovalFailed):
            remover().cutout(picture)

    in_invocation("images", "test-photoroom", refused)
    documents = emitted(capsys.readouterr().out)
    assert values(documents, "ProviderErrors", provider="photoroom") == [1.0]
    assert values(documents, "AiCostUsd") == []  # a refused call is not billed


def test_dimensions_go_in_documents_of_their_own_and_nothing_piles_up_when_off(
    monkeypatch: pytest.MonkeyPatch, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def step() -> None:
        count("ListingsGenerated", 1, source="local")
        count("ListingsGenerated", 1, source="gemini")
        count("ListingsGenerated", 1, source="local")
        count("PublishSucceeded")

    in_invocation("content", "test-dimensions", step)
    documents = emitted(capsys.readouterr().out)
    assert len(documents) == 3
    assert values(documents, "ListingsGenerated", source="local") == [1.0, 1.0]
    assert values(documents, "ListingsGenerated", source="gemini") == [1.0]
    assert values(documents, "PublishSucceeded") == [1.0]

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # the local stage
    in_invocation("content", "test-off", step)
    assert emitted(capsys.readouterr().out) == []
    assert not observability.metrics.metric_set
