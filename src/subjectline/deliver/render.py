"""Render a send to HTML and plain text with signed tracking links (Jinja2, autoescaped)."""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from subjectline.deliver.records import RenderedEmail, Send
from subjectline.track.tokens import TokenSigner

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class RenderConfig:
    """Where links point and who the email is from.

    ``item_url_template`` and ``image_url_template`` take ``{item_id}`` (URL-quoted);
    destinations get UTM parameters and ``sl_send`` (the send id, which the shop passes
    back in the conversion webhook).
    """

    tracking_base_url: str = "http://127.0.0.1:8000"
    item_url_template: str = "https://shop.example.invalid/items/{item_id}"
    image_url_template: str = "https://img.example.invalid/items/{item_id}.jpg"
    from_address: str = "Subjectline Shop <news@shop.example.invalid>"
    unsubscribe_mailto: str = "unsubscribe@shop.example.invalid"
    brand_name: str = "Subjectline Shop"
    postal_address: str = "Subjectline Shop, 1 Example Street, 00000 Example City"
    message_id_domain: str = "shop.example.invalid"
    max_items: int = 6


def single_line(text: str) -> str:
    """Header-safe text: no CR/LF or control characters (no header injection)."""
    return _LINE_BREAKS.sub(" ", text).strip()


def format_price(price: float, currency: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {currency}"


def item_url(template: str, item_id: str) -> str:
    return template.format(item_id=quote(item_id, safe=""))


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class Renderer:
    """Renders sends; one Jinja environment, reused."""

    def __init__(self, signer: TokenSigner, config: RenderConfig | None = None):
        self.signer = signer
        self.config = config or RenderConfig()
        self.env = Environment(
            loader=PackageLoader("subjectline.deliver", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.html_template = self.env.get_template("email.html.j2")
        self.text_template = self.env.get_template("email.txt.j2")

    def destinations(self, send: Send) -> tuple[str, ...]:
        """The recorded redirect targets, one per item, in link-index order."""
        utm = {
            "utm_source": "email",
            "utm_medium": "email",
            "utm_campaign": send.campaign_id,
            "sl_send": send.send_id,
        }
        return tuple(with_params(item.url, utm) for item in send.items[: self.config.max_items])

    def render(self, send: Send) -> RenderedEmail:
        base = self.config.tracking_base_url.rstrip("/")
        links = self.destinations(send)
        tracked = tuple(
            f"{base}/c/{self.signer.sign(send.send_id, 'c', i)}" for i in range(len(links))
        )
        pixel = f"{base}/o/{self.signer.sign(send.send_id, 'o')}.gif"
        unsubscribe = f"{base}/u/{self.signer.sign(send.send_id, 'u')}"
        mailto = f"mailto:{self.config.unsubscribe_mailto}?subject=unsubscribe%20{send.send_id}"
        items = [
            {
                "title": item.title,
                "price": format_price(item.price, item.currency),
                "image_url": item.image_url,
                "link": link,
            }
            for item, link in zip(send.items, tracked, strict=False)
        ]
        subject = single_line(send.subject)
        context: dict[str, Any] = {
            "send": send,
            "subject": subject,
            "items": items,
            "unsubscribe_url": unsubscribe,
            "open_pixel_url": pixel,
            "brand_name": self.config.brand_name,
            "postal_address": self.config.postal_address,
        }
        message_id = f"<{send.send_id}@{self.config.message_id_domain}>"
        headers = {
            "List-Unsubscribe": f"<{mailto}>, <{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return RenderedEmail(
            send=send,
            subject=subject,
            html=self.html_template.render(context),
            text=self.text_template.render(context),
            links=links,
            tracked_links=tracked,
            open_pixel_url=pixel,
            unsubscribe_url=unsubscribe,
            unsubscribe_mailto=mailto,
            message_id=message_id,
            headers=headers,
        )


def to_message(rendered: RenderedEmail, from_address: str) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred) with every header."""
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = rendered.send.email
    msg["Subject"] = rendered.subject
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = rendered.message_id
    for name, value in rendered.headers.items():
        msg[name] = value
    msg["X-Subjectline-Send-Id"] = rendered.send.send_id
    msg["X-Subjectline-Campaign"] = single_line(rendered.send.campaign_id)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg
