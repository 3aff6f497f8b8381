"""The tracking service: open pixel, click redirect, conversion webhook, unsubscribe.

Every route that stores something verifies a signed token (or, for the webhook, a
signed body) first, answers 404/401 without touching the database when it is not
genuine, and commits the event before it answers. Click redirects go only to the URL
recorded for the send at delivery time: nothing in the request names a destination.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from subjectline.track import store
from subjectline.track.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets
from subjectline.track.tokens import InvalidToken, TokenSigner, verify_body

SIGNATURE_HEADER = "X-Subjectline-Signature"
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache"}

# Image proxies and security scanners that fetch the pixel without a person looking.
# Apple Mail Privacy Protection fetches with the bare user agent "Mozilla/5.0".
PREFETCH_AGENTS = re.compile(
    r"GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp|Outlook-iOS-Android.*Prefetch"
    r"|Barracuda|Mimecast|Proofpoint|Symantec|Trend ?Micro|bot\b|crawler|spider",
    re.IGNORECASE,
)
APPLE_MPP_AGENT = "Mozilla/5.0"


@dataclass(frozen=True)
class ServiceSettings:
    """Limits and heuristics of the tracking service."""

    max_body_bytes: int = 16 * 1024
    rate_per_client: float = 20.0  # sustained requests per second per client address
    burst_per_client: float = 60.0
    redis_url: str | None = None  # share rate limits across workers (redis://127.0.0.1:6379/0)
    redis_prefix: str = "subjectline:rl:"
    prefetch_window_s: float = 10.0  # opens this soon after the send are machine opens
    webhook_tolerance_s: int = 300  # how old a signed webhook may be (replay window)


def is_machine_open(
    user_agent: str | None, seconds_since_send: float | None, window: float
) -> bool:
    """Heuristic for opens no person caused: proxy agents, or an open right after sending."""
    agent = (user_agent or "").strip()
    if not agent or agent == APPLE_MPP_AGENT or PREFETCH_AGENTS.search(agent):
        return True
    return seconds_since_send is not None and seconds_since_send < window


class Conversion(BaseModel):
    send_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=128)
    revenue: float = Field(ge=0, le=1e9)


class _BodyTooLarge(Exception):
    pass


class LimitsMiddleware:
    """Per-client token bucket and a request body cap, before any route runs."""

    def __init__(self, app: Any, max_body_bytes: int, limiter: RateLimiter | None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter

    async def _allow(self, client: str) -> bool:
        assert self.limiter is not None
        if isinstance(self.limiter, RedisBuckets):  # a network round trip: off the event loop
            return await run_in_threadpool(self.limiter.allow, client)
        return self.limiter.allow(client)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter is not None and not await self._allow(client):
            await _plain(send, 429, b"too many requests", {"retry-after": "1"})
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_body_bytes
                except ValueError:
                    too_large = True
                if too_large:
                    await _plain(send, 413, b"request too large")
                    return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _plain(send, 413, b"request too large")


async def _plain(
    send: Any, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _not_found() -> Response:
    return Response("not found", status_code=404, media_type="text/plain", headers=NO_STORE)


def create_app(
    engine: Engine, signer: TokenSigner, settings: ServiceSettings | None = None
) -> FastAPI:
    """The ASGI app; ``engine`` must be migrated (``store.migrate``)."""
    settings = settings or ServiceSettings()
    pages = Environment(
        loader=PackageLoader("subjectline.track", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    app = FastAPI(title="subjectline tracking", docs_url=None, redoc_url=None, openapi_url=None)
    limiter: RateLimiter | None = None
    if settings.rate_per_client > 0:
        limiter = (
            RedisBuckets(
                settings.redis_url,
                settings.rate_per_client,
                settings.burst_per_client,
                prefix=settings.redis_prefix,
            )
            if settings.redis_url
            else MemoryBuckets(settings.rate_per_client, settings.burst_per_client)
        )
    app.add_middleware(LimitsMiddleware, max_body_bytes=settings.max_body_bytes, limiter=limiter)
    webhook_secret = signer.ring.webhook_secret

    def genuine_send(token: str, purpose: Any) -> tuple[store.StoredSend, int] | None:
        try:
            claims = signer.verify(token, purpose)
        except InvalidToken:
            return None
        sent = store.get_send(engine, claims.send_id)
        return None if sent is None else (sent, claims.link_index)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/o/{token}.gif")
    def open_pixel(token: str, request: Request) -> Response:
        found = genuine_send(token, "o")
        if found is None:
            return _not_found()
        sent, _ = found
        now = datetime.now(UTC)
        since = (now - sent.sent_at).total_seconds() if sent.sent_at else None
        agent = request.headers.get("user-agent")
        machine = is_machine_open(agent, since, settings.prefetch_window_s)
        event = store.Event(sent.send_id, "open", is_prefetch=machine, user_agent=agent)
        store.record_event(engine, event, at=now)
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    @app.get("/c/{token}")
    def click(token: str, request: Request) -> Response:
        found = genuine_send(token, "c")
        if found is None:
            return _not_found()
        sent, index = found
        if index >= len(sent.links):
            return _not_found()
        agent = request.headers.get("user-agent")
        store.record_event(
            engine, store.Event(sent.send_id, "click", link_index=index, user_agent=agent)
        )
        return RedirectResponse(sent.links[index], status_code=302, headers=NO_STORE)

    @app.get("/u/{token}")
    def unsubscribe_page(token: str) -> Response:
        # GET never unsubscribes: link scanners follow links, only a POST acts.
        found = genuine_send(token, "u")
        if found is None:
            return _not_found()
        html = pages.get_template("unsubscribe_confirm.html").render(email=found[0].email)
        return HTMLResponse(html, headers=NO_STORE)

    @app.post("/u/{token}")
    async def unsubscribe(token: str, request: Request) -> Response:
        body = await request.body()
        if b"List-Unsubscribe" not in body or b"One-Click" not in body:
            return Response("expected List-Unsubscribe=One-Click", status_code=400)
        found = await run_in_threadpool(genuine_send, token, "u")
        if found is None:
            return _not_found()
        sent = found[0]
        agent = request.headers.get("user-agent")
        await run_in_threadpool(store.record_unsubscribe, engine, sent, agent)
        html = pages.get_template("unsubscribed.html").render(email=sent.email)
        return HTMLResponse(html, headers=NO_STORE)

    @app.post("/v1/conversions", status_code=202)
    async def conversion(request: Request) -> Response:
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER)
        if webhook_secret is None or not verify_body(
            webhook_secret, body, signature, settings.webhook_tolerance_s
        ):
            return JSONResponse({"error": "missing or bad signature"}, status_code=401)
        try:
            payload = Conversion.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "body must be {send_id, order_id, revenue}"}, 422)
        if await run_in_threadpool(store.get_send, engine, payload.send_id) is None:
            return JSONResponse({"error": "unknown send"}, status_code=404)
        event = store.Event(
            payload.send_id, "conversion", revenue=payload.revenue, order_id=payload.order_id
        )
        inserted = await run_in_threadpool(store.record_event, engine, event)
        return JSONResponse({"status": "recorded" if inserted else "duplicate"}, 202)

    return app
