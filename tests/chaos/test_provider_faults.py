"""Each provider failing on the local stack, then recovering (the matrix: tests/chaos/provider_faults.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chaos.harness import ProviderDouble
from tests.chaos.provider_faults import FAULTS, Fault, run_fault

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_a_provider_fails_then_recovers(
    fault: Fault, seller: Any, sandbox: Any, double: ProviderDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_fault(fault, seller, sandbox, double, monkeypatch)
