from __future__ import annotations

import dataclasses
from email import message_from_bytes, policy

from subjectline.deliver import Renderer, to_message
from subjectline.deliver.synthetic import synthetic_sends
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
    assert unsubscribe.startswith("<mailto:") and f"<{rendered.unsubscribe_url}>" in unsubscribe

    message = message_from_bytes(
        to_message(rendered, "Shop <news@shop.example.invalid>").as_bytes(), policy=policy.default
    )
    assert message["Subject"] == send.subject
    assert message["To"] == send.email
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].replace("\n ", " ").startswith("<mailto:")
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
