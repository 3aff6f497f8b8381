"""`subjectline serve` as a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from subjectline.deliver import RenderConfig, Renderer
from subjectline.deliver.sink import free_port
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track.process import running_service
from subjectline.track.schema import events
from subjectline.track.store import make_engine, mark_sent, migrate, register_sends
from subjectline.track.tokens import KeyRing, TokenSigner

KEYS = "t1:serve-test-secret-0123456789"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_serve_records_a_click_before_answering(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    port = free_port()
    engine = make_engine(url)
    migrate(engine)
    config = RenderConfig(tracking_base_url=f"http://127.0.0.1:{port}")
    email = Renderer(TokenSigner(KeyRing.from_spec(KEYS)), config).render(
        synthetic_sends(1, config=config)[0]
    )
    register_sends(engine, [email.to_send_record()])
    mark_sent(engine, [email.send.send_id])
    keys = {"SUBJECTLINE_TRACKING_KEYS": KEYS}
    with running_service(url, tmp_path, port, keys) as (base, _):
        response = httpx.get(email.tracked_links[0], follow_redirects=False)
        assert response.status_code == 302 and response.headers["location"] == email.links[0]
        with engine.connect() as conn:  # committed before the redirect was sent
            assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 1
        assert httpx.get(f"{base}/c/t1.AAAA.BBBB").status_code == 404
    engine.dispose()


@pytest.mark.postgres
def test_kill_9_under_load_loses_no_acknowledged_event(postgres_engine, tmp_path) -> None:
    """SIGKILL mid-load: every event answered 200/302 is stored, none twice."""
    with postgres_engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    port = free_port()
    config = RenderConfig(tracking_base_url=f"http://127.0.0.1:{port}")
    renderer = Renderer(TokenSigner(KeyRing.from_spec(KEYS)), config)
    emails = [renderer.render(s) for s in synthetic_sends(300, config=config)]
    register_sends(postgres_engine, [e.to_send_record() for e in emails])
    mark_sent(
        postgres_engine, [e.send.send_id for e in emails], datetime.now(UTC) - timedelta(hours=1)
    )
    work = [(e.open_pixel_url, f"open:{e.send.send_id}:human") for e in emails]
    work += [(link, f"click:{e.send.send_id}:{i}") for e in emails
             for i, link in enumerate(e.tracked_links)]  # fmt: skip
    acknowledged: list[str] = []
    failed = 0

    async def load(process) -> None:
        nonlocal failed
        pending = list(work)
        agent = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0"}
        async with httpx.AsyncClient(timeout=5, headers=agent) as client:

            async def worker() -> None:
                nonlocal failed
                while pending:
                    target, key = pending.pop()
                    try:
                        response = await client.get(target)
                    except httpx.TransportError:
                        failed += 1
                        continue
                    if response.status_code in (200, 302):
                        acknowledged.append(key)
                    if len(acknowledged) == 200:
                        process.kill()  # SIGKILL: no shutdown, no flush

            await asyncio.gather(*(worker() for _ in range(16)))

    keys = {"SUBJECTLINE_TRACKING_KEYS": KEYS}
    with running_service(url, tmp_path, port, keys, ("--rate", "0")) as (_, process):
        asyncio.run(load(process))
        process.wait(timeout=10)
    with postgres_engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.select(events.c.dedup_key))]
    assert failed > 0 and len(acknowledged) >= 200  # the kill came in the middle of the load
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))
