"""`subjectline serve` as a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from subjectline.deliver import RenderConfig, Renderer
from subjectline.deliver.sink import free_port
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track.process import running_service
from subjectline.track.schema import events
from subjectline.track.store import make_engine, mark_sent, migrate, register_sends
from subjectline.track.tokens import KeyRing, TokenSigner

KEYS = "t1:serve-test-secret-0123456789"


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
    with running_service(url, tmp_path, port, keys) as base:
        response = httpx.get(email.tracked_links[0], follow_redirects=False)
        assert response.status_code == 302 and response.headers["location"] == email.links[0]
        with engine.connect() as conn:  # committed before the redirect was sent
            assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 1
        assert httpx.get(f"{base}/c/t1.AAAA.BBBB").status_code == 404
    engine.dispose()
