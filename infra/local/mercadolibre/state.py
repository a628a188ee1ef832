"""Everything the sandbox remembers: apps, test sellers, grants, pictures, items, scripted answers.

All in memory behind one lock. With a state file, every change is written through (JSON, replaced
atomically) and the picture bytes go to a folder next to it, so `make run` keeps connected accounts,
pictures and items across restarts. Scripted answers, notifications on their way and the clock are
never saved.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CLIENT_ID = "1234567890123456"
DEFAULT_CLIENT_SECRET = "local-sandbox-secret"  # noqa: S105 - the documented local app, not a secret

ACCESS_TOKEN_SECONDS = 6 * 60 * 60
REFRESH_TOKEN_SECONDS = 180 * 24 * 60 * 60  # refresh tokens expire after 6 months
AUTHORIZATION_CODE_SECONDS = 10 * 60


@dataclass
class App:
    client_id: str
    client_secret: str
    # None accepts any redirect URI (each code still only works with the URI it was issued for).
    redirect_uri: str | None = None
    # Where MercadoLibre POSTs the notifications of the app's topics (productos-recibe-notificaciones).
    notifications_url: str | None = None
    topics: list[str] = field(default_factory=list)


CLASSIC = "classic"
USER_PRODUCTS = "user_products"  # tagged `user_product_seller`: lists with family_name, never a title
SELLER_KINDS = (CLASSIC, USER_PRODUCTS)


@dataclass
class Seller:
    id: int
    nickname: str
    site_id: str
    registration_date: str
    kind: str = CLASSIC
    # `status.list.codes` of /users/me: what the seller must complete before listing (empty: may list).
    list_codes: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """An authorization code, access token or refresh token: who, for which app, until when."""

    user_id: int
    client_id: str
    expires_at: float
    redirect_uri: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class Picture:
    id: str
    seller_id: int
    width: int
    height: int
    date_created: str


@dataclass
class Answer:
    """A scripted answer: the next `times` requests (every one when None) matching `method` and `path`
    (exact, or a prefix when it ends in `*`) get `status` and `body`; with `share`, each matching
    request only with that chance. `drop` hangs up instead of answering: "before" handling the
    request, "after" handling it (the item is created, say, and the client never hears so)."""

    path: str
    method: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    share: float = 1.0
    drop: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path


@dataclass
class Faults:
    """The test harness's knobs: scripted answers, in order, and a delay on every answer."""

    answers: list[Answer] = field(default_factory=list)
    latency_ms: int = 0
    seed: int | None = None


class SandboxState:
    def __init__(self, state_file: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.state_file = state_file
        self.lock = threading.RLock()
        self.faults = Faults()
        self.fault_dice = random.Random()
        self.apps = {DEFAULT_CLIENT_ID: App(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)}
        self.sellers: dict[int, Seller] = {}
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.pictures: dict[str, Picture] = {}
        self.picture_bytes: dict[str, bytes] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.descriptions: dict[str, dict[str, Any]] = {}
        if state_file and state_file.exists():
            self._load(state_file)

    def reset(self) -> None:
        """Forget sellers, grants, pictures and items; keep the registered apps."""
        with self.lock:
            self.faults = Faults()
            for table in (
                self.sellers,
                self.codes,
                self.access_tokens,
                self.refresh_tokens,
                self.pictures,
                self.picture_bytes,
                self.items,
                self.descriptions,
            ):
                table.clear()
            if self.pictures_dir and self.pictures_dir.exists():
                for stored in self.pictures_dir.glob("*.jpg"):
                    stored.unlink()
            self._save()

    @contextmanager
    def change(self) -> Iterator[None]:
        """Hold the lock for a change and write it through to the state file."""
        with self.lock:
            yield
            self._save()

    def take_answer(self, method: str, path: str) -> Answer | None:
        """The scripted answer this request gets, if any (its `times` counted down), first match wins."""
        with self.lock:
            for answer in self.faults.answers:
                if answer.times == 0 or not answer.matches(method, path):
                    continue
                if answer.share < 1 and self.fault_dice.random() >= answer.share:
                    continue
                if answer.times is not None:
                    answer.times -= 1
                return answer
        return None

    def apps_of(self, user_id: int) -> list[App]:
        """The apps the seller authorized and has not lost (a live refresh token)."""
        with self.lock:
            granted = {
                grant.client_id
                for grant in self.refresh_tokens.values()
                if grant.user_id == user_id and grant.expires_at > self.clock()
            }
            return [self.apps[client_id] for client_id in sorted(granted) if client_id in self.apps]

    def new_token(self, prefix: str, user_id: int) -> str:
        return f"{prefix}-{secrets.token_hex(12)}-{user_id}"

    def new_user_id(self) -> int:
        while (user_id := secrets.randbelow(900_000_000) + 100_000_000) in self.sellers:
            pass
        return user_id

    # -- persistence --------------------------------------------------------------------------------

    @property
    def pictures_dir(self) -> Path | None:
        return self.state_file.with_name(self.state_file.name + ".pictures") if self.state_file else None

    def save_picture_bytes(self, picture_id: str, content: bytes) -> None:
        self.picture_bytes[picture_id] = content
        if self.pictures_dir:
            self.pictures_dir.mkdir(parents=True, exist_ok=True)
            (self.pictures_dir / f"{picture_id}.jpg").write_bytes(content)

    def _save(self) -> None:
        if not self.state_file:
            return
        snapshot = {
            "apps": [asdict(app) for app in self.apps.values()],
            "sellers": [asdict(seller) for seller in self.sellers.values()],
            "codes": {code: asdict(grant) for code, grant in self.codes.items()},
            "access_tokens": {token: asdict(grant) for token, grant in self.access_tokens.items()},
            "refresh_tokens": {token: asdict(grant) for token, grant in self.refresh_tokens.items()},
            "pictures": [asdict(picture) for picture in self.pictures.values()],
            "items": self.items,
            "descriptions": self.descriptions,
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.state_file)

    def _load(self, state_file: Path) -> None:
        snapshot = json.loads(state_file.read_text(encoding="utf-8"))
        self.apps = {app["client_id"]: App(**app) for app in snapshot["apps"]}
        self.sellers = {seller["id"]: Seller(**seller) for seller in snapshot["sellers"]}
        self.codes = {code: Grant(**grant) for code, grant in snapshot["codes"].items()}
        self.access_tokens = {token: Grant(**grant) for token, grant in snapshot["access_tokens"].items()}
        self.refresh_tokens = {token: Grant(**grant) for token, grant in snapshot["refresh_tokens"].items()}
        self.pictures = {picture["id"]: Picture(**picture) for picture in snapshot["pictures"]}
        self.items = snapshot["items"]
        self.descriptions = snapshot["descriptions"]
        assert self.pictures_dir is not None
        for picture_id in self.pictures:
            path = self.pictures_dir / f"{picture_id}.jpg"
            if path.exists():
                self.picture_bytes[picture_id] = path.read_bytes()
