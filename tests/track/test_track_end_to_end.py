"""Done-when: 1,000 synthetic users rendered, sent over SMTP, tracked on PostgreSQL.

The client acts only on what arrived at the SMTP server (pixel, links and unsubscribe
URL parsed from the received HTML), and the rates ``experiment analyze`` reports from
the event store equal the ones the client produced.
"""

from __future__ import annotations

import json
import random
import re
import time
from datetime import UTC, datetime

import polars as pl
import pytest
from fastapi.testclient import TestClient

from subjectline.deliver import Renderer, SmtpDelivery, SmtpSettings, build_sends
from subjectline.deliver.sink import MaildirSMTPServer
from subjectline.experiment.analysis import analyze
from subjectline.track.service import SIGNATURE_HEADER, ServiceSettings, create_app
from subjectline.track.store import sends_frame, suppressed_user_ids
from subjectline.track.tokens import sign_body

HUMAN = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5"
APPLE_PRIVACY_PROXY = "Mozilla/5.0"


def synthetic_campaign(n: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A campaign frame as the pipeline writes it, with its items and users tables."""
    rng = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    item_ids = [f"i{k:04d}" for k in range(300)]
    items = pl.DataFrame(
        {
            "item_id": item_ids,
            "title": [f"Trail shoe {k}" for k in range(300)],
            "category": ["Sports > Running"] * 300,
            "brand": ["Acme"] * 300,
            "price": [round(rng.uniform(10, 200), 2) for _ in item_ids],
            "currency": ["USD"] * 300,
            "in_stock": [True] * 300,
            "added_at": [now] * 300,
            "attributes": ["{}"] * 300,
        }
    )
    user_ids = [f"user-{k:04d}" for k in range(n)]
    users = pl.DataFrame(
        {
            "user_id": user_ids,
            "first_name": [f"Name{k}" for k in range(n)],
            "locale": ["en"] * n,
            "last_active_at": [now] * n,
        }
    )
    arms = ["template" if k % 2 == 0 else "llm" for k in range(n)]
    campaign = pl.DataFrame(
        {
            "user_id": user_ids,
            "theme_key": ["category:Sports > Running"] * n,
            "theme_label": ["Running"] * n,
            "subject": ["Top picks for you" if a == "template" else "Run further" for a in arms],
            "arm": arms,
            "item_ids": [rng.sample(item_ids, 4) for _ in range(n)],
        }
    )
    return campaign, items, users


def urls(html: str) -> tuple[str, list[str], str]:
    pixel = re.search(r'src="([^"]*/o/[^"]+\.gif)"', html)
    clicks = list(dict.fromkeys(re.findall(r'href="([^"]*/c/[^"]+)"', html)))
    unsubscribe = re.search(r'href="([^"]*/u/[^"]+)"', html)
    assert pixel and unsubscribe and clicks
    return pixel.group(1), clicks, unsubscribe.group(1)


@pytest.mark.postgres
@pytest.mark.parametrize("users_n", [150, pytest.param(1_000, marks=pytest.mark.slow)])
def test_campaign_to_analysis_on_postgres(users_n, postgres_engine, signer, ring, tmp_path) -> None:
    engine = postgres_engine
    campaign, items, users = synthetic_campaign(users_n)
    built = build_sends(campaign, items, users, "e2e-1")
    renderer = Renderer(signer)
    emails = [renderer.render(s) for s in built.sends]
    with MaildirSMTPServer(tmp_path / "maildir") as smtp:
        settings = SmtpSettings(port=smtp.port, rate_per_second=10_000, timeout_s=10)
        report = SmtpDelivery(engine, settings).deliver(emails)
        assert report.sent == users_n and not report.failed and not report.in_doubt
        messages = smtp.messages()
    assert len(messages) == users_n
    time.sleep(0.2)  # the service must not see human opens as "right after the send"

    client = TestClient(
        create_app(engine, signer, ServiceSettings(rate_per_client=0, prefetch_window_s=0.1)),
        follow_redirects=False,
    )
    rng = random.Random(11)
    truth: dict[str, dict[str, float]] = {}
    for message in messages:
        send_id = message["X-Subjectline-Send-Id"]
        html_part = message.get_body(("html",))
        assert html_part is not None
        pixel, clicks, unsubscribe = urls(html_part.get_content())
        outcome = dict.fromkeys(("opened", "clicked", "converted", "unsubscribed", "revenue"), 0.0)
        if rng.random() < 0.3:  # a machine open: flagged, never counted
            assert client.get(pixel, headers={"user-agent": APPLE_PRIVACY_PROXY}).status_code == 200
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 2)):  # a second open is a duplicate
                assert client.get(pixel, headers={"user-agent": HUMAN}).status_code == 200
            outcome["opened"] = 1
        if rng.random() < 0.12:
            response = client.get(rng.choice(clicks), headers={"user-agent": HUMAN})
            assert response.status_code == 302
            landed = re.search(r"sl_send=(\w+)", response.headers["location"])
            assert landed and landed.group(1) == send_id
            outcome["opened"] = outcome["clicked"] = 1
            if rng.random() < 0.3:
                revenue = round(rng.uniform(5, 150), 2)
                body = json.dumps(
                    {"send_id": send_id, "order_id": f"o-{send_id}", "revenue": revenue}
                ).encode()
                signature = sign_body(ring.webhook_secret, body, int(time.time()))
                for _ in range(2):  # the shop retries; the store keeps one
                    response = client.post(
                        "/v1/conversions", content=body, headers={SIGNATURE_HEADER: signature}
                    )
                    assert response.status_code == 202
                outcome["converted"], outcome["revenue"] = 1, revenue
        if rng.random() < 0.03:
            response = client.post(unsubscribe, content=b"List-Unsubscribe=One-Click")
            assert response.status_code == 200
            outcome["unsubscribed"] = 1
        truth[send_id] = outcome

    frame = sends_frame(engine, "e2e-1")
    assert frame.height == users_n
    by_send = {s.send_id: s for s in built.sends}
    expected = pl.DataFrame(
        [
            {"user_id": by_send[sid].user_id, "arm": by_send[sid].arm, **outcome}
            for sid, outcome in truth.items()
        ]
    )
    result = analyze(frame, control="template", cuped=False).to_dict()
    for arm, part in expected.group_by("arm"):
        rates = result["arms"][arm[0]]
        assert rates["n"] == part.height
        assert rates["open_rate"] == pytest.approx(part["opened"].mean(), abs=1e-12)
        assert rates["ctr"] == pytest.approx(part["clicked"].mean(), abs=1e-12)
        assert rates["cvr"] == pytest.approx(part["converted"].mean(), abs=1e-12)
        assert rates["unsub_rate"] == pytest.approx(part["unsubscribed"].mean(), abs=1e-12)
        assert rates["revenue_per_send"] == pytest.approx(part["revenue"].mean(), rel=1e-9)

    unsubscribed = set(expected.filter(pl.col("unsubscribed") == 1)["user_id"])
    assert unsubscribed and suppressed_user_ids(engine) == unsubscribed
    # The next campaign leaves them out.
    following = build_sends(campaign, items, users, "e2e-2", suppressed=suppressed_user_ids(engine))
    assert following.suppressed == len(unsubscribed)
    assert not unsubscribed & {s.user_id for s in following.sends}
