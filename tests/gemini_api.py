"""Gemini's REST API on loopback, for the writer as shipped: `POST {base}/v1beta/models/{model}:
generateContent` with the key in `x-goog-api-key`, answered as Gemini answers (`reply`, `failure`).
The `gemini` fixture (a plugin of tests/conftest.py) points the writer at it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.scripted_server import ScriptedServer, scripted_server

API_KEY = f"AIzaTest{secrets.token_hex(16)}"
MODEL = "gemini-3.8-flash"
ENDPOINT = f"/v1beta/models/{MODEL}:generateContent"
REPORTED = "gemini-3.8-flash-001"  # what responses say answered: the model's versioned id
ATTEMPTS = 3

Answer = tuple[int, bytes | str, dict[str, str]]


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        monkeypatch.setenv("GEMINI_BASE_URL", server.url)
        monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
        monkeypatch.setenv("GEMINI_MODEL", MODEL)
        monkeypatch.setenv("GEMINI_TIMEOUT_MS", "5000")
        monkeypatch.setenv("GEMINI_RETRY_ATTEMPTS", str(ATTEMPTS))
        monkeypatch.setenv("GEMINI_RETRY_INITIAL_DELAY", "0.01")
        monkeypatch.setenv("GEMINI_RETRY_MAX_DELAY", "0.02")
        monkeypatch.delenv("GEMINI_API_VERSION", raising=False)
        yield server


def reply(
    payload: dict[str, Any] | str, prompt_tokens: int = 1200, thoughts: int = 100, model: str = REPORTED
) -> Answer:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    body = {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": 300,
            "thoughtsTokenCount": thoughts,
            "totalTokenCount": prompt_tokens + 300 + thoughts,
        },
        "modelVersion": model,
    }
    return 200, json.dumps(body), {}


def failure(status: int, reason: str) -> Answer:
    body = {"error": {"code": status, "message": f"scripted {reason}", "status": reason}}
    return status, json.dumps(body), {}
