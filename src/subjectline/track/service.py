"""The tracking service: open pixel, click redirect, conversion webhook, unsubscribe.

Every route that stores something verifies a signed token (or, for the webhook, a
signed body) first, answers 404/401 without touching the database when it is not
genuine, and commits the event before it answers. Click redirects go only to the URL
recorded for the send at delivery time: nothing in the request names a destination.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import functools
import gc
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from subjectline.track import store
from subjectline.track.ratelimit import (
    MemoryBuckets,
    Outage,
    RateLimiter,
    RedisBuckets,
    SharedBuckets,
)
from subjectline.track.tokens import InvalidToken, TokenSigner, verify_body
from subjectline.track.writer import DB_UNAVAILABLE, EventWriter, SendLookup

SIGNATURE_HEADER = "X-Subjectline-Signature"
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache"}
# On every response. The pages have inline styles and post only to themselves; nothing
# may frame them (clickjacking an unsubscribe); no-referrer keeps the token in the URL
# from reaching the site a click redirects to.
SECURITY = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
DB_RETRY_AFTER_S = 5

# Image proxies and security scanners that fetch the pixel without a person looking.
# Apple Mail Privacy Protection fetches with the bare user agent "Mozilla/5.0".
PREFETCH_AGENTS = re.compile(
    r"GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp|Outlook-iOS-Android.*Prefetch"
    r"|Barracuda|Mimecast|Proofpoint|Symantec|Trend ?Micro|Forcepoint|IronPort|urldefense"
    r"|SafeLinks|HeadlessChrome|PhantomJS|python-requests|curl/|Wget|Go-http-client"
    r"|bot\b|crawler|spider",
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
    redis_retry_s: float = 5.0  # while Redis is down, probe it again this often
    prefetch_window_s: float = 10.0  # opens this soon after the send are machine opens
    webhook_tolerance_s: int = 300  # how old a signed webhook may be (replay window)


def is_machine_open(
    user_agent: str | None, seconds_since_send: float | None, window: float
) -> bool:
    """Heuristic for opens no person caused: proxy agents, or an open right after sending."""
    if _machine_agent(user_agent or ""):
        return True
    return seconds_since_send is not None and seconds_since_send < window


@functools.lru_cache(maxsize=4096)  # agents repeat; the regex is a hot spot under load
def _machine_agent(user_agent: str) -> bool:
    agent = user_agent.strip()
    return not agent or agent == APPLE_MPP_AGENT or bool(PREFETCH_AGENTS.search(agent))


# Link scanners (Mimecast, Proofpoint, Safe Links...) follow every link on delivery with
# the same kinds of agents, and a person does not click within seconds of the send.
is_machine_click = is_machine_open

# PostgreSQL text cannot hold NUL and control characters have no place in an id.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class Conversion(BaseModel):
    # Strict: a shop sending "12.5" or true as revenue has a bug to hear about.
    model_config = ConfigDict(strict=True)

    send_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)
    order_id: str = Field(min_length=1, max_length=128, pattern=_PRINTABLE)
    revenue: float = Field(ge=0, le=1e9, allow_inf_nan=False)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in JSON object")  # parsers disagree on which wins
    return dict(pairs)


def is_one_click(body: bytes, content_type: str) -> bool:
    """RFC 8058: the body is exactly the field ``List-Unsubscribe=One-Click``, urlencoded

    or as a multipart/form-data part; other fields may come along.
    """
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        if not message.is_multipart():
            return False
        values = [
            part.get_payload(decode=True)
            for part in message.iter_parts()
            if part.get_param("name", header="content-disposition") == "List-Unsubscribe"
        ]
        return values == [b"One-Click"]
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return [v for k, v in fields if k == "List-Unsubscribe"] == ["One-Click"]


class _BodyTooLarge(Exception):
    pass


class LimitsMiddleware:
    """Per-client token bucket and a request body cap, before any route runs."""

    def __init__(self, app: Any, max_body_bytes: int, limiter: RateLimiter | None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter

    async def _allow(self, key: str) -> bool:
        assert self.limiter is not None
        if isinstance(self.limiter, SharedBuckets):  # a network round trip: off the event loop
            return await run_in_threadpool(self.limiter.allow, key)
        return self.limiter.allow(key)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        # Pixels are keyed by token, not by address: an image proxy fetches the pixels of
        # thousands of recipients from one address, and a pixel answered 429 is never
        # fetched again. One token fetched too often is still limited. Health checks
        # must not be refused.
        key = path if path.startswith("/o/") else (scope.get("client") or ("unknown", 0))[0]
        limited = self.limiter is not None and path != "/healthz"
        if limited and not await self._allow(key):
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
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *SECURITY]}
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _plain(send, 413, b"request too large")


# (token or raw body, user agent or signature header) -> response
Handler = Callable[[Any, "str | None"], Awaitable[Response]]
CONVERSIONS = "/v1/conversions"


class TrackingPaths:
    """``GET /o/{token}.gif``, ``GET /c/{token}`` and ``POST /v1/conversions`` straight

    to their handlers.
    """

    def __init__(self, app: Any, routes: dict[str, Handler], unavailable: Callable[..., Response]):
        self.app = app
        self.routes = routes
        self.unavailable = unavailable

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler, header = None, b"user-agent"
        argument: Any = ""  # the token, or the webhook's raw body
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            kind, argument = path[1:2], path[3:]
            if path[2:3] == "/" and kind in self.routes and argument and "/" not in argument:
                if kind == "o":
                    argument = argument.removesuffix(".gif") if argument.endswith(".gif") else ""
                handler = self.routes[kind] if argument else None
        elif scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == CONVERSIONS:
            handler, header = self.routes[CONVERSIONS], SIGNATURE_HEADER.lower().encode()
        if handler is None:
            await self.app(scope, receive, send)
            return
        value = None
        for name, raw in scope["headers"]:
            if name == header:
                value = raw.decode("latin-1")
        if handler is self.routes.get(CONVERSIONS):
            argument = await _read_body(receive)
        try:
            response = await handler(argument, value)
        except DB_UNAVAILABLE as exc:
            response = self.unavailable(None, exc)
        await response(scope, receive, send)


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _plain(
    send: Any, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    raw += SECURITY
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
    writer = EventWriter(engine)
    sends = SendLookup(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything imported so far lives as long as the process; a full collection
        # that walks it all stalled every request for 250 ms every few seconds.
        gc.freeze()
        yield
        sends.close()
        writer.close()  # commits what is queued; its requests are answered

    app = FastAPI(
        title="subjectline tracking",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    limiter: RateLimiter | None = None
    if settings.rate_per_client > 0:
        local = MemoryBuckets(settings.rate_per_client, settings.burst_per_client)
        limiter = local
        if settings.redis_url:
            shared = RedisBuckets(
                settings.redis_url,
                settings.rate_per_client,
                settings.burst_per_client,
                prefix=settings.redis_prefix,
            )
            limiter = SharedBuckets(shared, local, retry_s=settings.redis_retry_s)
    webhook_secret = signer.ring.webhook_secret
    database = Outage("event store", f"answering 503 with Retry-After: {DB_RETRY_AFTER_S}")

    def unavailable(_request: Request, exc: Exception) -> Response:
        # The outage is logged once, in one line; a traceback per request helps nobody.
        database.failed(exc)
        return JSONResponse(
            {"error": "event store unavailable"},
            status_code=503,
            headers={"Retry-After": str(DB_RETRY_AFTER_S), **NO_STORE},
        )

    for error in DB_UNAVAILABLE:
        app.add_exception_handler(error, unavailable)

    async def genuine_send(token: str, purpose: Any) -> tuple[store.StoredSend, int] | None:
        try:
            claims = signer.verify(token, purpose)
        except InvalidToken:
            return None
        sent = await sends.get(claims.send_id)
        database.recovered()
        return None if sent is None else (sent, claims.link_index)

    async def record(event: store.Event, at: datetime | None = None) -> bool:
        inserted = await writer.record(event, at)
        database.recovered()
        return inserted

    @app.get("/healthz")
    def healthz(request: Request) -> Response:
        report: dict[str, Any] = {"status": "ok", "database": "ok"}
        if isinstance(limiter, SharedBuckets):
            report.update(limiter.health())
            if limiter.outage.down:
                report["status"] = "degraded"  # still serving: answer 200
        elif limiter is not None:
            report["rate_limiter"] = "in-process"
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except DB_UNAVAILABLE as exc:
            unavailable(request, exc)
            report.update(status="unavailable", database="unreachable")
            headers = {"Retry-After": str(DB_RETRY_AFTER_S), **NO_STORE}
            return JSONResponse(report, status_code=503, headers=headers)
        database.recovered()
        return JSONResponse(report, headers=NO_STORE)

    async def open_pixel(token: str, agent: str | None) -> Response:
        found = await genuine_send(token, "o")
        if found is None:
            return _not_found()
        sent, _ = found
        now = datetime.now(UTC)
        since = (now - sent.sent_at).total_seconds() if sent.sent_at else None
        machine = is_machine_open(agent, since, settings.prefetch_window_s)
        event = store.Event(sent.send_id, "open", is_prefetch=machine, user_agent=agent)
        await record(event, at=now)
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    async def click(token: str, agent: str | None) -> Response:
        found = await genuine_send(token, "c")
        if found is None:
            return _not_found()
        sent, index = found
        if index >= len(sent.links):
            return _not_found()
        now = datetime.now(UTC)
        since = (now - sent.sent_at).total_seconds() if sent.sent_at else None
        # A scanner still gets its redirect: refusing it can make the link look malicious.
        machine = is_machine_click(agent, since, settings.prefetch_window_s)
        event = store.Event(
            sent.send_id, "click", link_index=index, is_prefetch=machine, user_agent=agent
        )
        await record(event, at=now)
        return RedirectResponse(sent.links[index], status_code=302, headers=NO_STORE)

    @app.get("/u/{token}")
    async def unsubscribe_page(token: str) -> Response:
        # GET never unsubscribes: link scanners follow links, only a POST acts.
        found = await genuine_send(token, "u")
        if found is None:
            return _not_found()
        html = pages.get_template("unsubscribe_confirm.html").render(email=found[0].email)
        return HTMLResponse(html, headers=NO_STORE)

    @app.post("/u/{token}")
    async def unsubscribe(token: str, request: Request) -> Response:
        body = await request.body()
        if not is_one_click(body, request.headers.get("content-type", "")):
            return Response("expected List-Unsubscribe=One-Click", status_code=400)
        found = await genuine_send(token, "u")
        if found is None:
            return _not_found()
        sent = found[0]
        agent = request.headers.get("user-agent")
        await run_in_threadpool(store.record_unsubscribe, engine, sent, agent)
        html = pages.get_template("unsubscribed.html").render(email=sent.email)
        return HTMLResponse(html, headers=NO_STORE)

    async def conversion(body: bytes, signature: str | None) -> Response:
        if webhook_secret is None or not verify_body(
            webhook_secret, body, signature, settings.webhook_tolerance_s
        ):
            return JSONResponse({"error": "missing or bad signature"}, status_code=401)
        try:
            payload = Conversion.model_validate(json.loads(body, object_pairs_hook=_unique_keys))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "body must be {send_id, order_id, revenue}"}, 422)
        if await sends.get(payload.send_id) is None:
            return JSONResponse({"error": "unknown send"}, status_code=404)
        event = store.Event(
            payload.send_id, "conversion", revenue=payload.revenue, order_id=payload.order_id
        )
        inserted = await record(event)
        return JSONResponse({"status": "recorded" if inserted else "duplicate"}, 202)

    # The pixel, the click and the webhook are the traffic: answered below FastAPI's
    # routing and dependency machinery, which took about a third of the CPU per request.
    # Added first, so that it runs inside the limits (the last added is the outermost).
    paths: dict[str, Handler] = {"o": open_pixel, "c": click, CONVERSIONS: conversion}
    app.add_middleware(TrackingPaths, routes=paths, unavailable=unavailable)
    app.add_middleware(LimitsMiddleware, max_body_bytes=settings.max_body_bytes, limiter=limiter)
    return app


SERVE_ENV = "SUBJECTLINE_SERVE"


def app_from_environment() -> FastAPI:
    """The app of one of several uvicorn workers (``serve --workers N``): each process

    builds its own engine, writer and limiter from what ``serve`` put in ``$SUBJECTLINE_SERVE``.
    """
    from pathlib import Path

    from subjectline.track.tokens import KeyRing

    config = json.loads(os.environ[SERVE_ENV])
    signer = TokenSigner(KeyRing.load(Path(config["keys"]), create=False))
    return create_app(
        store.make_engine(config["db"]), signer, ServiceSettings(**config["settings"])
    )
