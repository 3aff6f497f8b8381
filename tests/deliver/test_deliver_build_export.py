from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes, policy

import polars as pl
import pytest

from subjectline.deliver import (
    AddressBook,
    RenderConfig,
    Renderer,
    build_sends,
    example_invalid_address,
    make_send_id,
    write_batch,
    write_eml,
)
from subjectline.errors import DataError


@pytest.fixture
def catalog() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    items = pl.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i/4"],
            "title": ["Trail shoe", "Rain jacket", "Socks", "Cap"],
            "category": ["Sports"] * 4,
            "brand": ["A", "B", None, "C"],
            "price": [99.0, 120.5, 9.99, 15.0],
            "currency": ["USD", "EUR", "USD", "GBP"],
            "in_stock": [True] * 4,
            "added_at": [now] * 4,
            "attributes": ["{}"] * 4,
        }
    )
    users = pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "weird id"],
            "first_name": ["Ana", None, "Bo", "Cy"],
            "locale": ["en"] * 4,
            "last_active_at": [now] * 4,
        }
    )
    campaign = pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "weird id"],
            "theme_key": ["category:Sports"] * 4,
            "theme_label": ["Sports"] * 4,
            "subject": ["Run on", "Top picks", "Run on", "Caps"],
            "arm": ["llm", "template", "llm", "llm"],
            "item_ids": [["i2", "i1", "gone"], ["i3"], ["i1"], ["i/4"]],
        }
    )
    return campaign, items, users


def test_build_sends_joins_items_in_order_and_honours_suppressions(catalog) -> None:
    campaign, items, users = catalog
    report = build_sends(campaign, items, users, "c9", suppressed={"u3"})
    assert (report.suppressed, report.no_address) == (1, 0)
    by_user = {s.user_id: s for s in report.sends}
    assert set(by_user) == {"u1", "u2", "weird id"}
    first = by_user["u1"]
    assert [i.item_id for i in first.items] == ["i2", "i1"]  # order kept, unknown item dropped
    assert first.items[0].currency == "EUR" and first.first_name == "Ana"
    assert first.send_id == make_send_id("c9", "u1")
    assert first.preheader == "Rain jacket and 1 more picks for you"
    assert by_user["weird id"].items[0].url.endswith("/items/i%2F4")
    assert by_user["weird id"].email == example_invalid_address("weird id")
    assert (
        by_user["weird id"].email.endswith("@example.invalid")
        and " " not in by_user["weird id"].email
    )


def test_build_sends_skips_users_without_address(catalog, tmp_path) -> None:
    campaign, items, users = catalog
    book_path = tmp_path / "addresses.csv"
    pl.DataFrame({"user_id": ["u1"], "email": ["ana@shop.example"]}).write_csv(book_path)
    report = build_sends(
        campaign, items, users, "c9", resolve_address=AddressBook.from_file(book_path)
    )
    assert [s.email for s in report.sends] == ["ana@shop.example"]
    assert report.no_address == 3
    with pytest.raises(DataError, match="missing column"):
        build_sends(campaign.drop("arm"), items, users, "c9")
    pl.DataFrame({"user_id": ["u1"], "email": ["not an address"]}).write_csv(book_path)
    with pytest.raises(DataError, match="not an email"):
        AddressBook.from_file(book_path)


def test_esp_batch_csv_and_jsonl(emails, tmp_path) -> None:
    assert write_batch(emails, tmp_path / "batch.csv", "csv") == len(emails)
    assert write_batch(emails, tmp_path / "batch.jsonl", "jsonl") == len(emails)
    csv = pl.read_csv(tmp_path / "batch.csv")
    rows = [json.loads(line) for line in (tmp_path / "batch.jsonl").read_text().splitlines()]
    assert csv.height == len(rows) == len(emails)
    for email, row in zip(emails, rows, strict=True):
        assert row["email"] == email.send.email and row["subject"] == email.subject
        assert row["item_1_name"] == email.send.items[0].title
        assert row["item_1_url"] == email.tracked_links[0]
        assert row["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
        assert row["unsubscribe_url"] == email.unsubscribe_url
    assert csv["subject"].to_list() == [e.subject for e in emails]


def test_eml_files_parse_back(emails, tmp_path) -> None:
    assert write_eml(emails[:5], tmp_path / "eml", RenderConfig().from_address) == 5
    for email in emails[:5]:
        raw = (tmp_path / "eml" / f"{email.send.send_id}.eml").read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        assert message["Subject"] == email.subject
        html = message.get_body(("html",))
        assert html is not None and email.open_pixel_url in html.get_content()


def test_renderer_uses_configured_urls(signer) -> None:
    config = RenderConfig(
        tracking_base_url="https://t.shop.example/",
        item_url_template="https://shop.example/p/{item_id}",
    )
    campaign = pl.DataFrame(
        {"user_id": ["u1"], "subject": ["s"], "arm": ["a"], "item_ids": [["x y"]]}
    )
    items = pl.DataFrame({"item_id": ["x y"], "title": ["T"], "price": [1.0], "currency": ["USD"]})
    send = build_sends(campaign, items, None, "c1", config=config).sends[0]
    rendered = Renderer(signer, config).render(send)
    assert rendered.links[0].startswith("https://shop.example/p/x%20y?utm_source=email")
    assert rendered.tracked_links[0].startswith("https://t.shop.example/c/")
