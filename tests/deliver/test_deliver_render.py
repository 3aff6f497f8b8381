from __future__ import annotations

import base64
import dataclasses
from email import message_from_bytes, policy

import polars as pl
import pytest

from subjectline.deliver import (
    RenderConfig,
    Renderer,
    SmtpDelivery,
    SmtpSettings,
    build_sends,
    to_message,
    write_eml,
)
from subjectline.deliver.render import HeaderError
from subjectline.deliver.sink import LocalSMTPServer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.errors import DataError
from subjectline.track import TokenSigner

MALICIOUS = '<script>alert("x")</script>"><img src=x onerror=alert(1)> & Co'


def test_item_text_is_escaped_in_html(renderer: Renderer) -> None:
    send = synthetic_sends(1)[0]
    evil_items = tuple(dataclasses.replace(i, title=MALICIOUS) for i in send.items)
    send = dataclasses.replace(
        send, items=evil_items, theme_label="<b>Shoes</b>", first_name="<i>Eve</i>"
    )
    rendered = renderer.render(send)
    assert "<script>" not in rendered.html
    assert "onerror=alert(1)>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert "&lt;b&gt;Shoes&lt;/b&gt;" in rendered.html
    assert "&lt;i&gt;Eve&lt;/i&gt;" in rendered.html
    assert 'alt="&lt;script&gt;' in rendered.html  # attribute context escaped too
    assert MALICIOUS in rendered.text  # plain text shows it literally, nothing to execute


def test_email_has_items_links_footer_and_rfc8058_headers(
    renderer: Renderer, signer: TokenSigner
) -> None:
    send = synthetic_sends(1)[0]
    rendered = renderer.render(send)
    assert len(rendered.tracked_links) == len(send.items) == len(rendered.links)
    for index, (link, destination) in enumerate(
        zip(rendered.tracked_links, rendered.links, strict=True)
    ):
        claims = signer.verify(link.rsplit("/", 1)[1], "c")
        assert (claims.send_id, claims.link_index) == (send.send_id, index)
        assert destination.startswith(send.items[index].url + "?utm_source=email")
        assert f"sl_send={send.send_id}" in destination
        assert link in rendered.html and link in rendered.text
    for item in send.items:
        assert item.title in rendered.html and item.image_url in rendered.html
    assert f"${send.items[0].price:,.2f}" in rendered.html
    assert send.preheader in rendered.html
    assert send.theme_label and f">{send.theme_label}</h1>" in rendered.html
    assert rendered.unsubscribe_url in rendered.html and rendered.open_pixel_url in rendered.html
    assert rendered.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = rendered.headers["List-Unsubscribe"]
    assert unsubscribe == f"<{rendered.unsubscribe_url}>, <{rendered.unsubscribe_mailto}>"

    message = message_from_bytes(
        to_message(rendered, "Shop <news@shop.example.invalid>").as_bytes(), policy=policy.default
    )
    assert message["Subject"] == send.subject
    assert message["To"] == send.email
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"] == unsubscribe
    assert message["Message-ID"] == rendered.message_id
    parts = [p.get_content_type() for p in message.walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]


def test_subject_cannot_inject_headers(renderer: Renderer) -> None:
    send = dataclasses.replace(synthetic_sends(1)[0], subject="Hi\r\nBcc: victim@example.com")
    rendered = renderer.render(send)
    message = to_message(rendered, "news@shop.example.invalid")
    assert message["Bcc"] is None
    assert rendered.subject == "Hi Bcc: victim@example.com"


def test_non_ascii_subject_is_encoded(renderer: Renderer) -> None:
    send = dataclasses.replace(synthetic_sends(1)[0], subject="Zapatos para ti ✨ ñ")
    raw = to_message(renderer.render(send), "news@shop.example.invalid").as_bytes()
    assert b"=?utf-8?" in raw
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == "Zapatos para ti ✨ ñ"


def header_block(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]


def test_list_unsubscribe_is_verbatim_in_raw_eml_and_smtp_bytes(
    signer: TokenSigner, tmp_path, store_engine
) -> None:
    # RFC 2369/8058 receivers read the raw header; a re-parse would decode an encoded-word
    # and hide the defect, so only bytes are compared here.
    config = RenderConfig(tracking_base_url="https://t.shop.example")
    rendered = Renderer(signer, config).render(synthetic_sends(1)[0])
    assert rendered.unsubscribe_url.startswith("https://t.shop.example/u/")
    expected = (
        f"List-Unsubscribe: <{rendered.unsubscribe_url}>, <{rendered.unsubscribe_mailto}>"
    ).encode()
    one_click = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"

    write_eml([rendered], tmp_path, config.from_address)
    eml = (tmp_path / f"{rendered.send.send_id}.eml").read_bytes()
    with LocalSMTPServer() as server:
        SmtpDelivery(store_engine, SmtpSettings(port=server.port, timeout_s=5)).deliver([rendered])
        smtp = server.received[0].data
    for raw, newline in ((eml, b"\n"), (smtp, b"\r\n")):
        headers = header_block(raw).split(b"\n")
        assert expected + newline in raw
        assert one_click + newline in raw
        assert b"=?" not in b"".join(h for h in headers if h.startswith(b"List-"))


def test_encoded_word_subject_cannot_add_a_header(renderer: Renderer, signer) -> None:
    payload = base64.b64encode(b"50% off\r\nBcc: victim@evil.example").decode()
    evil = f"=?utf-8?b?{payload}?="
    send = dataclasses.replace(synthetic_sends(1)[0], subject=evil)
    # deliver accepts any campaign file: the row is refused before anything is built.
    campaign = pl.DataFrame(
        {"user_id": ["u1", "u2"], "subject": ["Fine", evil], "arm": ["a"] * 2, "item_ids": [[]] * 2}
    )
    items = pl.DataFrame({"item_id": ["x"], "title": ["T"], "price": [1.0], "currency": ["USD"]})
    with pytest.raises(DataError, match=r"campaign.parquet, row 2, column 'subject': .*RFC 2047"):
        build_sends(campaign, items, None, "c1", source="campaign.parquet")
    # Built some other way, the renderer refuses it too, naming the send.
    with pytest.raises(HeaderError, match=f"send {send.send_id}.*encoded-word"):
        renderer.render(send)
    # And were a rendered email to carry it, no header line comes out of it.
    rendered = dataclasses.replace(renderer.render(synthetic_sends(1)[0]), subject=evil)
    with pytest.raises(HeaderError, match="more than one header"):
        to_message(rendered, "news@shop.example.invalid").as_bytes()


def test_plain_subject_with_line_breaks_is_one_raw_header_line(renderer: Renderer) -> None:
    send = dataclasses.replace(synthetic_sends(1)[0], subject="Hi\r\nBcc: victim@evil.example =?")
    raw = to_message(renderer.render(send), "news@shop.example.invalid").as_bytes()
    lines = header_block(raw).split(b"\n")
    assert b"Subject: Hi Bcc: victim@evil.example =?" in lines
    assert not any(line.lower().startswith(b"bcc") for line in lines)
