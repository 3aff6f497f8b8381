"""Issue 15: the edges of the tracking service an operator or an attacker reaches first.

Redis and database outages (real servers on closed ports, a real redis-server stopped
and restarted), link scanners, NUL bytes on PostgreSQL, strict webhook bodies, the exact
one-click body, security headers, and pixels through a shared image proxy.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from test_track_service import (
    HUMAN_AGENT,
    SIGNATURE_HEADER,
    client_for,
    conversion,
    path_of,
    stored,
)
from typer.testing import CliRunner

from subjectline.cli import app as cli_app
from subjectline.deliver.sink import free_port
from subjectline.experiment.analysis import analyze
from subjectline.track.schema import events, suppressions
from subjectline.track.store import make_engine, sends_frame, suppressed_user_ids
from subjectline.track.tokens import sign_body

SCANNER = "Mozilla/5.0 (compatible; Mimecast URL Protect bot)"


def warnings_from_track(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "subjectline.track" and r.levelno >= logging.WARNING
    ]


# ------------------------------------------------------------------------ Redis outage


def test_redis_unreachable_fails_open_and_healthz_says_so(
    register, sqlite_engine, signer, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="subjectline.track")
    email = register(sqlite_engine, 1)[0]
    closed = f"redis://127.0.0.1:{free_port()}/0"
    client = client_for(
        sqlite_engine, signer, redis_url=closed, rate_per_client=0.01, burst_per_client=4
    )
    assert client.get(path_of(email.open_pixel_url)).status_code == 200
    codes = [client.get(path_of(email.tracked_links[0])).status_code for _ in range(5)]
    assert codes == [302, 302, 302, 302, 429]  # the in-process bucket still limits
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["rate_limiter"] == "in-process"
    assert "unreachable" in health.json()["redis"]
    logged = warnings_from_track(caplog)
    assert len(logged) == 1, [r.getMessage() for r in logged]  # once per outage
    assert "Redis" in logged[0].getMessage() and "\n" not in logged[0].getMessage()
    assert stored(sqlite_engine) == 2


class RedisServer:
    """A private redis-server on a free port, that a test stops and starts again."""

    def __init__(self, workdir) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def test_redis_stopped_then_restarted(
    register, sqlite_engine, signer, redis_server, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="subjectline.track")
    redis_server.start()
    email = register(sqlite_engine, 1)[0]
    client = client_for(
        sqlite_engine,
        signer,
        redis_url=f"redis://127.0.0.1:{redis_server.port}/0",
        redis_retry_s=0.2,
    )
    assert client.get("/healthz").json()["rate_limiter"] == "redis"
    redis_server.stop()
    for _ in range(3):
        assert client.get(path_of(email.tracked_links[0])).status_code == 302
        assert client.get(path_of(email.open_pixel_url)).status_code == 200
    assert client.get("/healthz").json()["status"] == "degraded"
    redis_server.start()
    time.sleep(0.3)  # past redis_retry_s: the next request probes Redis again
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "rate_limiter": "redis",
    }
    messages = [r.getMessage() for r in warnings_from_track(caplog)]
    assert len(messages) == 2, messages
    assert "unreachable" in messages[0] and "reachable again" in messages[1]


# ------------------------------------------------------------------------ link scanners


def test_link_scanner_clicks_are_flagged_and_left_out(register, engine, signer) -> None:
    scanned, early, person = register(engine, 3, sent_ago_s=15)
    with engine.begin() as conn:  # ``early`` was delivered a moment ago
        conn.execute(sa.text("UPDATE sends SET sent_at = CURRENT_TIMESTAMP WHERE send_id = :s"),
                     {"s": early.send.send_id})  # fmt: skip
    client = client_for(engine, signer, prefetch_window_s=10)
    for email, agent in [(scanned, SCANNER), (early, HUMAN_AGENT), (person, HUMAN_AGENT)]:
        response = client.get(path_of(email.tracked_links[0]), headers={"user-agent": agent})
        assert response.status_code == 302  # the scanner is redirected like anyone
        assert response.headers["location"] == email.links[0]
    with engine.connect() as conn:
        flags = dict(conn.execute(sa.select(events.c.send_id, events.c.is_prefetch)).all())
    assert flags == {scanned.send.send_id: True, early.send.send_id: True,
                     person.send.send_id: False}  # fmt: skip
    frame = sends_frame(engine, "c1")
    by_user = {r["user_id"]: (r["opened"], r["clicked"]) for r in frame.iter_rows(named=True)}
    assert by_user == {
        scanned.send.user_id: (0, 0),  # a machine click implies no open either
        early.send.user_id: (0, 0),
        person.send.user_id: (1, 1),
    }
    counted = sends_frame(engine, "c1", count_machine_clicks=True)
    assert counted["clicked"].sum() == 3
    # The person clicking after the scanner is recorded, not swallowed as a duplicate.
    client.get(path_of(scanned.tracked_links[0]), headers={"user-agent": HUMAN_AGENT})
    assert stored(engine) == 4
    # What ``experiment analyze`` reads: the export, where scanners do not click.
    frame = sends_frame(engine, "c1")
    arms = analyze(frame, control=frame["arm"][0], cuped=False).to_dict()["arms"]
    assert round(sum(a["ctr"] * a["n"] for a in arms.values())) == 2


# --------------------------------------------------------------------------- webhooks


@pytest.mark.parametrize("field", ["send_id", "order_id"])
def test_conversion_with_nul_is_422_on_both_stores(register, engine, signer, ring, field) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    body = {"send_id": email.send.send_id, "order_id": "o-1", "revenue": 3.0}
    for bad in ("\x00", "\x1b[31m", "\n"):
        value = body[field] + bad + "x"
        response = conversion(client, ring.webhook_secret, {**body, field: value})
        assert response.status_code == 422, (field, bad)
    assert stored(engine) == 0
    assert conversion(client, ring.webhook_secret, body).status_code == 202


def signed(client, secret: bytes, raw: bytes):
    headers = {"content-type": "application/json",
               SIGNATURE_HEADER: sign_body(secret, raw, int(time.time()))}  # fmt: skip
    return client.post("/v1/conversions", content=raw, headers=headers)


def test_webhook_revenue_must_be_a_number_and_keys_unique(
    register, sqlite_engine, signer, ring
) -> None:
    email = register(sqlite_engine, 1)[0]
    client = client_for(sqlite_engine, signer)
    send_id = email.send.send_id
    for revenue in (True, False, "12.5", None, [1], {"amount": 1}):
        body = {"send_id": send_id, "order_id": "o-1", "revenue": revenue}
        assert conversion(client, ring.webhook_secret, body).status_code == 422, revenue
    for raw in (
        f'{{"send_id": "{send_id}", "order_id": "o-1", "revenue": 1, "revenue": 9999}}',
        f'{{"send_id": "{send_id}", "order_id": "o-1", "order_id": "o-2", "revenue": 1}}',
        f'{{"send_id": "{send_id}", "order_id": "o-1", "revenue": NaN}}',
        f'{{"send_id": "{send_id}", "order_id": "o-1", "revenue": Infinity}}',
        '{"send_id": 12, "order_id": "o-1", "revenue": 1}',
    ):
        assert signed(client, ring.webhook_secret, raw.encode()).status_code == 422, raw
    assert stored(sqlite_engine) == 0
    integer = {"send_id": send_id, "order_id": "o-1", "revenue": 12}
    assert conversion(client, ring.webhook_secret, integer).status_code == 202


# ---------------------------------------------------------------------------- one-click


def test_one_click_body_must_match_exactly(register, engine, signer) -> None:
    email = register(engine, 1)[0]
    client = client_for(engine, signer)
    path = path_of(email.unsubscribe_url)
    form = {"content-type": "application/x-www-form-urlencoded"}
    for body in (
        b"List-Unsubscribe=Not-One-Click",
        b"List-Unsubscribe=One-Click-Not",
        b"X-List-Unsubscribe=One-Click",
        b"note=List-Unsubscribe%3DOne-Click",
        b"List-Unsubscribe=One-Click&List-Unsubscribe=No",
        b"List-Unsubscribe=one-click",
    ):
        assert client.post(path, content=body, headers=form).status_code == 400, body
    wrong_part = client.post(path, files={"List-Unsubscribe": (None, "Not-One-Click")})
    assert wrong_part.status_code == 400
    assert suppressed_user_ids(engine) == set()
    assert stored(engine, suppressions) == 0
    multipart = client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200
    assert suppressed_user_ids(engine) == {email.send.user_id}


# ------------------------------------------------------------------------ page headers


def test_pages_and_redirects_carry_security_headers(register, sqlite_engine, signer) -> None:
    email = register(sqlite_engine, 1)[0]
    client = client_for(sqlite_engine, signer)
    for response in (
        client.get(path_of(email.unsubscribe_url)),
        client.get(path_of(email.tracked_links[0])),
        client.get(path_of(email.open_pixel_url)),
        client.get("/u/forged.token.here"),
    ):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


# -------------------------------------------------------------------- database outage


def test_database_outage_is_503_with_retry_after_and_one_line(signer, ring, caplog) -> None:
    caplog.set_level(logging.INFO, logger="subjectline.track")
    down = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    client = client_for(down, signer)
    body = json.dumps({"send_id": "s-1", "order_id": "o-1", "revenue": 1.0}).encode()
    responses = [
        client.get(f"/o/{signer.sign('s-1', 'o', 0)}.gif"),
        client.get(f"/c/{signer.sign('s-1', 'c', 0)}"),
        client.post(f"/u/{signer.sign('s-1', 'u', 0)}", content=b"List-Unsubscribe=One-Click"),
        signed(client, ring.webhook_secret, body),
        client.get("/healthz"),
    ]
    for response in responses:
        assert response.status_code == 503, response.request.url
        assert response.headers["retry-after"] == "5"
    assert responses[-1].json()["database"] == "unreachable"
    logged = warnings_from_track(caplog)
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is None and "\n" not in logged[0].getMessage()
    assert len(logged[0].getMessage()) < 400
    down.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:{port}/test",
        "postgresql+psycopg://postgres:hunter2hunter2@127.0.0.1:{port}/test",
        "nosuchdb://x/y",
        "not a url at all",
    ],
)
def test_wrong_database_url_at_start_is_one_line(tmp_path, url) -> None:
    url = url.format(port=free_port())
    args = ["serve", "--db", url, "--workspace", str(tmp_path), "--port", str(free_port())]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "event store" in lines[0]
    assert "hunter2" not in result.output


# ----------------------------------------------------------------- shared image proxy


def test_pixels_through_a_shared_proxy_are_not_rate_limited(
    register, sqlite_engine, signer
) -> None:
    emails = register(sqlite_engine, 30)
    client = client_for(sqlite_engine, signer, rate_per_client=1, burst_per_client=5)
    proxy = {"user-agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"}
    codes = [client.get(path_of(e.open_pixel_url), headers=proxy).status_code for e in emails]
    assert codes == [200] * 30
    assert stored(sqlite_engine) == 30
    # One pixel fetched over and over is still limited, as are clicks from one address.
    again = [client.get(path_of(emails[0].open_pixel_url)).status_code for _ in range(6)]
    assert again.count(429) >= 1
    clicks = [client.get(path_of(emails[1].tracked_links[0])).status_code for _ in range(7)]
    assert clicks[-1] == 429
    assert client.get("/healthz").status_code == 200


def test_workspace_suppressions_read_the_store_and_create_none(tmp_path, monkeypatch) -> None:
    from subjectline.track import workspace_suppressions
    from subjectline.track.store import DB_ENV, SQLITE_FILE, add_suppressions, open_store

    monkeypatch.delenv(DB_ENV, raising=False)
    assert workspace_suppressions(tmp_path) == set()
    assert not (tmp_path / SQLITE_FILE).exists()
    add_suppressions(open_store(workspace=tmp_path), ["u1"], reason="unsubscribe")
    assert workspace_suppressions(tmp_path) == {"u1"}
