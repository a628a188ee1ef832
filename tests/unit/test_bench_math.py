"""The benchmarks' arithmetic: percentiles, ratios, Gemini's token rules and a listing's cost."""

from __future__ import annotations

import pytest

from bench.stats import (
    ListingUsage,
    Prices,
    image_tokens,
    listing_cost,
    percentile,
    ratio,
    text_tokens,
    total_cost,
)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_ratio_against_the_baseline() -> None:
    assert ratio(3.0, 1.5) == "2.00x"
    assert ratio(1.0, 0.0) == "n/a"


def test_gemini_image_tokens_follow_the_tiling_rule() -> None:
    assert image_tokens(384, 300) == 258  # small: one flat charge
    assert image_tokens(1024, 768) == 2 * 258  # the size the writer sends
    assert image_tokens(4000, 3000) == 6 * 4 * 258  # a full 12 MP photo
    assert text_tokens("abcd" * 10) == 10 and text_tokens("abcde") == 2


def test_cost_per_listing_and_in_total() -> None:
    prices = Prices(input_per_mtok=0.30, output_per_mtok=2.50, photoroom_per_call=0.02)
    one = ListingUsage("a", input_tokens=1_000_000, output_tokens=100_000, photoroom_calls=1)
    cost = listing_cost(one, prices)
    assert cost["gemini"] == pytest.approx(0.30 + 0.25)
    assert cost["photoroom"] == pytest.approx(0.02)
    assert cost["total"] == pytest.approx(0.57)
    local = ListingUsage("b", input_tokens=0, output_tokens=0, photoroom_calls=0)
    assert listing_cost(local, prices)["total"] == 0
    assert total_cost([one, one, local], prices)["total"] == pytest.approx(1.14)
