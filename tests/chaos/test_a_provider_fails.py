"""The provider-fault representative `make test` runs: Gemini rate-limits every call until the
adapter's retries run out, the product says GEMINI_RATE_LIMITED, and the seller's retry, once Gemini
answers, takes it to published with one item. `make chaos` runs the whole matrix
(tests/chaos/test_provider_faults.py, tests/chaos/provider_faults.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.chaos.harness import ProviderDouble
from tests.chaos.provider_faults import FAULTS, run_fault

# Not marked `chaos`: `make chaos` runs this case in the matrix already, and one row is enough.


def test_gemini_rate_limited_then_the_sellers_retry(
    seller: Any,
    sandbox: Any,
    double: ProviderDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [fault] = [f for f in FAULTS if f.name == "gemini-429"]
    run_fault(fault, seller, sandbox, double, monkeypatch)
