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
from subjectline.deliver.address import suppressed_addresses
from subjectline.errors import DataError
from subjectline.track.store import (
    get_send,
    record_unsubscribe,
    register_sends,
    suppressed_user_ids,
)


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
    with pytest.raises(DataError, match="row 1, column 'email': not one email address"):
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


def test_suppression_by_normalised_address_covers_every_user_id(
    catalog, store_engine, renderer
) -> None:
    # Three accounts share one mailbox, spelled in three cases; one unsubscribes.
    campaign, items, users = catalog
    book = AddressBook(
        {"u1": "Ana@Shop.example", "u2": "ana@shop.example", "u3": "ANA@SHOP.EXAMPLE"}
    )
    first = build_sends(campaign, items, users, "c1", resolve_address=book)
    # One mailbox, one email: the first of its user ids gets it.
    assert [s.user_id for s in first.sends] == ["u1"]
    assert first.shared_address == 2
    register_sends(store_engine, (renderer.render(s).to_send_record() for s in first.sends))
    unsubscribing = get_send(store_engine, make_send_id("c1", "u1"))
    assert unsubscribing is not None
    record_unsubscribe(store_engine, unsubscribing)
    assert suppressed_user_ids(store_engine) == {"u1"}
    assert suppressed_addresses(store_engine) == {"ana@shop.example"}

    second = build_sends(
        campaign,
        items,
        users,
        "c2",
        resolve_address=book,
        suppressed=suppressed_user_ids(store_engine),
        suppressed_addresses=suppressed_addresses(store_engine),
    )
    assert [s.user_id for s in second.sends] == []  # "weird id" has no address in the book
    assert (second.suppressed, second.no_address) == (3, 1)


def test_user_ids_of_an_address_book_stay_text(tmp_path) -> None:
    book_path = tmp_path / "addresses.csv"
    book_path.write_text("user_id,email\n007,bond@shop.example\n42,ana@shop.example\n")
    book = AddressBook.from_file(book_path)
    assert book("007") == "bond@shop.example"
    assert book("7") is None
    assert book("42") == "ana@shop.example"


def test_address_list_in_one_cell_is_refused(catalog, tmp_path) -> None:
    book_path = tmp_path / "addresses.csv"
    pl.DataFrame(
        {"user_id": ["u1", "u2"], "email": ["ana@shop.example", "a@example.invalid,b"]}
    ).write_csv(book_path)
    with pytest.raises(DataError) as caught:
        AddressBook.from_file(book_path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        str(book_path), 2, "email"
    )  # fmt: skip
    assert "'a@example.invalid,b'" in str(caught.value) and "','" in str(caught.value)
    # A resolver written in Python gets the same check when the sends are built.
    campaign, items, users = catalog
    with pytest.raises(DataError, match=r"c\.parquet, row 2: user 'u2': .*not one email"):
        build_sends(
            campaign,
            items,
            users,
            "c1",
            resolve_address=lambda u: "x@shop.example, y@shop.example" if u == "u2" else None,
            source="c.parquet",
        )
