"""The HTTP layer of ``subjectline serve-api``: bearer keys, rate limits, validation.

Every answer comes from :class:`subjectline.serve.api.SubjectAPI`; this module only
turns requests into its calls and its errors into 4xx responses.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from subjectline.data.contract import Item
from subjectline.serve.api import SubjectAPI, SubjectError
from subjectline.track.ratelimit import MemoryBuckets

log = logging.getLogger("subjectline.serve")
KEYS_ENV = "SUBJECTLINE_API_KEYS"
# Braze caches a GET for 5 minutes by default; saying so keeps other callers alike.
CACHE_CONTROL = "private, max-age=300"


def parse_keys(value: str | None) -> tuple[str, ...]:
    """The comma-separated keys of ``SUBJECTLINE_API_KEYS`` (blanks dropped)."""
    return tuple(k.strip() for k in (value or "").split(",") if k.strip())


@dataclass(frozen=True)
class ApiSettings:
    keys: tuple[str, ...]
    rate_per_key: float = 1000.0  # requests per second per key; 0 disables
    burst_per_key: float = 2000.0
    refresh_s: float = 30.0  # how often the workspace is checked for new titles/campaigns

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError(f"no API keys: set {KEYS_ENV} to one or more comma-separated keys")
        short = [i for i, k in enumerate(self.keys) if len(k) < 16]
        if short:
            raise ValueError(f"{KEYS_ENV}: key {short[0] + 1} is shorter than 16 characters")


class BasketItem(BaseModel):
    """An item the catalog may not hold yet; its text is untrusted like any seller's."""

    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=300)
    category: str = Field(min_length=1, max_length=300)
    brand: str | None = Field(default=None, max_length=100)
    price: float = Field(ge=0, le=1e7)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    in_stock: bool = True
    added_at: datetime | None = None
    attributes: dict[str, Annotated[str, Field(max_length=100)]] = Field(
        default_factory=dict, max_length=20
    )

    def to_item(self) -> Item:
        added = self.added_at or datetime(1970, 1, 1, tzinfo=UTC)
        return Item(
            item_id=self.item_id,
            title=self.title,
            category=self.category,
            brand=self.brand,
            price=self.price,
            currency=self.currency,
            in_stock=self.in_stock,
            added_at=added if added.tzinfo else added.replace(tzinfo=UTC),
            attributes=dict(self.attributes),
        )


UserId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]


class SubjectRequest(BaseModel):
    """``user_id`` alone: the user's campaign subject; ``items``: a subject for them."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId | None = None
    items: list[Annotated[str, Field(min_length=1, max_length=128)] | BasketItem] | None = Field(
        default=None, min_length=1, max_length=50
    )
    campaign: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_question(self) -> SubjectRequest:
        if self.user_id is None and self.items is None:
            raise ValueError("give user_id, items, or both")
        if self.items is not None and self.campaign is not None:
            raise ValueError("campaign applies to a user_id alone, not to items")
        return self


class SubjectResponse(BaseModel):
    subject: str | None = Field(description="None: send no email (see reason)")
    theme: dict[str, str] | None
    arm: str | None
    variant: str | None
    source: str | None = Field(description="campaign, approved, cache, control or fallback")
    items: list[str]
    campaign: str | None
    reason: str | None
    queued: bool


def _key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def create_app(api: SubjectAPI, settings: ApiSettings) -> FastAPI:
    keys = [k.encode() for k in settings.keys]
    limiter = (
        MemoryBuckets(settings.rate_per_key, settings.burst_per_key)
        if settings.rate_per_key > 0
        else None
    )
    stop = threading.Event()

    def refresher() -> None:
        while not stop.wait(settings.refresh_s):
            try:
                if api.refresh():
                    log.info("workspace changed: reloaded %s", api.status())
                    # The new state is as long-lived as the first: frozen, full collections
                    # do not walk it (the old one is freed by its reference counts).
                    gc.freeze()
            except Exception:  # keep serving what is loaded
                log.exception("refresh failed")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            api.warm()  # before the freeze: what the gate loads on first use is frozen too
        except Exception:  # campaign users can still be answered
            log.exception("warming the safety gate failed")
        # The loaded catalog, campaign and gate models need no more collecting: frozen,
        # a full collection walks only what was made since (a few ms, not 150-300 ms).
        gc.collect()
        gc.freeze()
        thread = threading.Thread(target=refresher, name="serve-refresh", daemon=True)
        thread.start()
        yield
        stop.set()

    app = FastAPI(
        title="subjectline subject API",
        version="1",
        description="A checked subject line at send time (triggered emails, Braze "
        "Connected Content). Bearer keys from SUBJECTLINE_API_KEYS.",
        lifespan=lifespan,
    )

    def authorised(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        given = token.strip().encode()
        if scheme.lower() != "bearer" or not given:
            raise SubjectError(401, "send 'Authorization: Bearer <key>'")
        # compare_digest on every key: the time taken says nothing about which is close.
        matches = [hmac.compare_digest(given, key) for key in keys]
        if not any(matches):
            raise SubjectError(401, "unknown API key")
        key_id = _key_id(token.strip())
        if limiter is not None and not limiter.allow(key_id):
            raise SubjectError(429, f"rate limit of {settings.rate_per_key:g} requests/s per key")
        return key_id

    @app.exception_handler(SubjectError)
    async def subject_error(_request: Request, exc: SubjectError) -> Response:
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        elif exc.status == 429:
            headers["Retry-After"] = "1"
        return JSONResponse({"detail": exc.detail}, exc.status, headers=headers)

    def answer(payload: dict[str, Any]) -> Response:
        return JSONResponse(payload, headers={"Cache-Control": CACHE_CONTROL})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"ok": True, "latest_campaign": api.latest_campaign}

    @app.get("/v1/status")
    def status(_key: str = Depends(authorised)) -> dict[str, Any]:
        return api.status()

    @app.get("/v1/subject", response_model=SubjectResponse)
    async def get_subject(
        user_id: Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")],
        campaign: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        items: Annotated[
            str | None,
            Query(max_length=7000, description="Comma-separated item ids: a subject for them"),
        ] = None,
        _key: str = Depends(authorised),
    ) -> Response:
        """The user's subject in the latest approved campaign (or ``campaign``); with
        ``items``, a subject for an email holding those items."""
        if items is not None:
            if campaign is not None:
                raise SubjectError(422, "campaign applies to a user_id alone, not to items")
            ids: Sequence[str] = [i.strip() for i in items.split(",") if i.strip()]
            # A new basket runs the theme finder and the gate: off the event loop.
            found = await run_in_threadpool(api.for_basket, list(ids), user_id)
            return answer(found.to_dict())
        # A dict look-up and one indexed read of the suppressions: cheaper inline than a
        # hop to the thread pool.
        return answer(api.for_user(user_id, campaign).to_dict())

    @app.post("/v1/subject", response_model=SubjectResponse)
    async def post_subject(body: SubjectRequest, _key: str = Depends(authorised)) -> Response:
        """``{"user_id"}``: as GET; ``{"items": [...]}`` (ids or item records, optionally
        with ``user_id``): a checked subject for an email holding those items."""
        if body.items is None:
            assert body.user_id is not None
            return answer(api.for_user(body.user_id, body.campaign).to_dict())
        basket = [i if isinstance(i, str) else i.to_item() for i in body.items]
        found = await run_in_threadpool(api.for_basket, basket, body.user_id)
        return answer(found.to_dict())

    return app
