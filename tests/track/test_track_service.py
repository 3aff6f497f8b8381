"""The tracking service through FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from subjectline.track.schema import events, suppressions
from subjectline.track.service import (
    SIGNATURE_HEADER,
    ServiceSettings,
    create_app,
    is_machine_open,
)
from subjectline.track.store import sends_frame, suppressed_user_ids
from subjectline.track.tokens import TokenSigner, sign_body

HUMAN_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0"


def client_for(engine: Engine, signer: TokenSigner, **settings) -> TestClient:
    return TestClient(
        create_app(engine, signer, ServiceSettings(**settings)), follow_redirects=False
    )


def stored(engine: Engine, table: sa.Table = events) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def path_of(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[1]


def test_click_redirects_to_recorded_url_and_dedups(register, engine, signer) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    for _ in range(3):
        response = client.get(path_of(email.tracked_links[1]), headers={"user-agent": HUMAN_AGENT})
        assert response.status_code == 302
        assert response.headers["location"] == email.links[1]
    assert stored(engine) == 1  # one click per link, however often it is followed
    frame = sends_frame(engine, "c1")
    assert frame.select("opened", "clicked").row(0) == (1, 1)


def test_open_redirect_attempt_goes_nowhere_else(register, engine, signer) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    evil = "https://evil.example/phish"
    response = client.get(path_of(email.tracked_links[0]), params={"url": evil, "next": evil})
    assert response.headers["location"] == email.links[0]
    # A genuine token for a link index the send does not have: nothing to redirect to.
    beyond = signer.sign(email.send.send_id, "c", len(email.links))
    response = client.get(f"/c/{beyond}", params={"url": evil})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert stored(engine) == 1


def bad_tokens(signer: TokenSigner, ring, send_id: str, purpose) -> dict[str, str]:
    attacker = TokenSigner(type(ring)((("k2", b"attacker-secret-0123456"),)))
    kid, _, mac = signer.sign(send_id, purpose, 0).split(".")
    other = "c" if purpose != "c" else "o"
    return {
        "forged": attacker.sign(send_id, purpose, 0),
        "tampered": f"{kid}.{signer.sign(send_id, purpose, 1).split('.')[1]}.{mac}",
        "expired": signer.sign(send_id, purpose, 0, expires_at=int(time.time()) - 5),
        "unknown send": signer.sign("s-does-not-exist", purpose, 0),
        "other purpose": signer.sign(send_id, other, 0),
    }


def test_forged_tampered_expired_tokens_store_nothing(register, engine, signer, ring) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    one_click = {"content": b"List-Unsubscribe=One-Click"}
    routes = {
        "c": lambda t: client.get(f"/c/{t}"),
        "o": lambda t: client.get(f"/o/{t}.gif"),
        "u": lambda t: client.post(f"/u/{t}", **one_click),
    }
    for purpose, call in routes.items():
        for name, token in bad_tokens(signer, ring, email.send.send_id, purpose).items():
            response = call(token)
            assert response.status_code == 404, (purpose, name)
            assert "location" not in response.headers
    assert client.get(f"/u/{bad_tokens(signer, ring, 'x', 'u')['forged']}").status_code == 404
    assert stored(engine) == 0
    assert stored(engine, suppressions) == 0


def test_open_pixel_flags_prefetch(register, engine, signer) -> None:
    old, fresh, apple, google = register(engine, 4)
    client = client_for(engine, signer, prefetch_window_s=10)
    # ``fresh`` was just sent: any open within the window is a machine.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sends SET sent_at = CURRENT_TIMESTAMP WHERE send_id = :s"),
                     {"s": fresh.send.send_id})  # fmt: skip
    cases = [
        (old, HUMAN_AGENT),
        (fresh, HUMAN_AGENT),
        (apple, "Mozilla/5.0"),
        (google, "Mozilla/5.0 (Windows NT 5.1) Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
    ]  # fmt: skip
    for email, agent in cases:
        response = client.get(path_of(email.open_pixel_url), headers={"user-agent": agent})
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert response.content.startswith(b"GIF89a")
        assert "no-store" in response.headers["cache-control"]
    with engine.connect() as conn:
        flags = dict(conn.execute(sa.select(events.c.send_id, events.c.is_prefetch)).all())
    assert flags == {
        old.send.send_id: False,
        fresh.send.send_id: True,
        apple.send.send_id: True,
        google.send.send_id: True,
    }
    opened = dict(sends_frame(engine, "c1").select("user_id", "opened").iter_rows())
    assert opened == {
        old.send.user_id: 1,
        fresh.send.user_id: 0,
        apple.send.user_id: 0,
        google.send.user_id: 0,
    }
    counted = dict(
        sends_frame(engine, "c1", count_prefetch_opens=True).select("user_id", "opened").iter_rows()
    )
    assert set(counted.values()) == {1}
    # A person opening later still counts, next to the machine open.
    client.get(path_of(apple.open_pixel_url), headers={"user-agent": HUMAN_AGENT})
    assert stored(engine) == 5


def test_is_machine_open_heuristic() -> None:
    assert is_machine_open(None, 3600, 10)
    assert is_machine_open("YahooMailProxy; https://help.yahoo.com", 3600, 10)
    assert is_machine_open(HUMAN_AGENT, 2.0, 10)
    assert not is_machine_open(HUMAN_AGENT, 3600, 10)


def conversion(client: TestClient, secret: bytes | None, body: dict, timestamp=None):
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign_body(secret, raw, timestamp or int(time.time()))
    return client.post("/v1/conversions", content=raw, headers=headers)


def test_conversion_webhook_requires_signature(register, engine, signer, ring) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    body = {"send_id": email.send.send_id, "order_id": "o-1", "revenue": 42.5}
    assert conversion(client, None, body).status_code == 401
    assert conversion(client, b"wrong-secret-0123456789", body).status_code == 401
    stale = int(time.time()) - 3600
    assert conversion(client, ring.webhook_secret, body, timestamp=stale).status_code == 401
    assert stored(engine) == 0
    bad = {"send_id": email.send.send_id, "order_id": "o-1", "revenue": -1}
    assert conversion(client, ring.webhook_secret, bad).status_code == 422
    unknown = {**body, "send_id": "s-nope"}
    assert conversion(client, ring.webhook_secret, unknown).status_code == 404
    assert stored(engine) == 0
    first = conversion(client, ring.webhook_secret, body)
    again = conversion(client, ring.webhook_secret, body)
    assert (first.status_code, first.json()["status"]) == (202, "recorded")
    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    conversion(client, ring.webhook_secret, {**body, "order_id": "o-2", "revenue": 7.5})
    row = sends_frame(engine, "c1").row(0, named=True)
    assert (row["converted"], row["revenue"]) == (1, 50.0)


def test_one_click_unsubscribe(register, engine, signer) -> None:
    email = register(engine, 2)[0]
    client = client_for(engine, signer)
    path = path_of(email.unsubscribe_url)
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert suppressed_user_ids(engine) == set()  # a GET (link scanner) changes nothing
    assert client.post(path, content=b"").status_code == 400
    form = {"content-type": "application/x-www-form-urlencoded"}
    for _ in range(2):
        done = client.post(path, content=b"List-Unsubscribe=One-Click", headers=form)
        assert done.status_code == 200
    assert suppressed_user_ids(engine) == {email.send.user_id}
    assert stored(engine) == 1
    assert sends_frame(engine, "c1")["unsubscribed"].sum() == 1


def test_oversized_request_is_rejected(register, engine, signer, ring) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer, max_body_bytes=1024)
    body = {"send_id": email.send.send_id, "order_id": "o" * 100, "revenue": 1.0, "pad": "x" * 4096}
    assert conversion(client, ring.webhook_secret, body).status_code == 413

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(8):
            yield b"List-Unsubscribe=One-Click" + b"&x=" + b"y" * 300

    response = client.post(path_of(email.unsubscribe_url), content=chunks())
    assert response.status_code == 413
    assert stored(engine) == 0
    assert suppressed_user_ids(engine) == set()


def test_per_client_rate_limit(register, sqlite_engine, signer) -> None:
    email = register(sqlite_engine, 1)[0]
    client = client_for(sqlite_engine, signer, rate_per_client=1, burst_per_client=5)
    codes = [client.get(path_of(email.tracked_links[0])).status_code for _ in range(8)]
    assert codes[:5] == [302] * 5
    assert codes[5:] == [429] * 3


def test_per_client_rate_limit_in_redis(register, sqlite_engine, signer) -> None:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at 127.0.0.1:6379 is unreachable: {exc}")
    email = register(sqlite_engine, 1)[0]
    settings = {"rate_per_client": 0.01, "burst_per_client": 3, "redis_url": url,
                "redis_prefix": f"subjectline-test:{uuid.uuid4().hex}:"}  # fmt: skip
    first, second = (client_for(sqlite_engine, signer, **settings) for _ in range(2))
    path = path_of(email.tracked_links[0])
    codes = [c.get(path).status_code for c in (first, second, first, second)]
    assert codes == [302, 302, 302, 429]  # two service instances, one shared bucket


@pytest.mark.parametrize("path", ["/healthz"])
def test_health(engine, signer, path) -> None:
    assert client_for(engine, signer).get(path).json() == {
        "status": "ok",
        "database": "ok",
        "rate_limiter": "in-process",
    }
