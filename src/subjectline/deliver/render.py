"""Render a send to HTML and plain text with signed tracking links (Jinja2, autoescaped)."""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from subjectline.deliver.records import RenderedEmail, Send
from subjectline.errors import SubjectlineError
from subjectline.track.tokens import TokenSigner

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_LINE_BREAKS = re.compile(r"[\r\n\t\x00-\x1f\x7f]+")
# RFC 2047 encoded-word syntax, loosely: the stdlib header parser decodes such text when a
# header is set, so "=?utf-8?b?...?=" in a subject becomes whatever it encodes, line breaks
# included. Human subjects have no use for it.
_ENCODED_WORD = re.compile(r"=\?.*?\?=", re.S)
# RFC 2369 / RFC 8058 receivers read these raw, looking for "<https:" and "<mailto:"; the
# stdlib folder would RFC 2047-encode a URL longer than a line to be able to wrap it.
_VERBATIM_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_MAX_LINE = 998  # RFC 5322 2.1.1, without CRLF
# A line break in a folded header that is not followed by SP/HT starts another header. This
# is the check CPython 3.11.10 added as ``verify_generated_headers`` (CVE-2024-6923); the
# 3.11.7 here lacks it, and a backstop costs nothing where it has it.
_NEW_HEADER_LINE = re.compile(r"(?>\r\n|\r|\n)(?![ \t])")  # atomic: CRLF is one break


class HeaderError(SubjectlineError, ValueError):
    """A header value that cannot be written as exactly the one header it should be."""


class MailPolicy(EmailPolicy):
    """``email.policy.default`` that writes the List-Unsubscribe headers verbatim and
    refuses to write any header that would come out as more than one header line."""

    def fold(self, name: str, value: Any) -> str:
        return self._verified(name, self._verbatim(name, value) or super().fold(name, value))

    def fold_binary(self, name: str, value: Any) -> bytes:
        verbatim = self._verbatim(name, value)
        if verbatim is not None:
            return verbatim.encode("ascii")
        folded = super().fold_binary(name, value)
        self._verified(name, folded.decode("ascii", "surrogateescape"))
        return folded

    def _verbatim(self, name: str, value: Any) -> str | None:
        if name.lower() not in _VERBATIM_HEADERS:
            return None
        text = str(value)
        if not text.isascii() or _LINE_BREAKS.search(text) or len(name) + 2 + len(text) > _MAX_LINE:
            raise HeaderError(f"{name} must be one line of printable ASCII: {text!r}")
        return f"{name}: {text}{self.linesep}"

    def _verified(self, name: str, folded: str) -> str:
        if _NEW_HEADER_LINE.search(folded.removesuffix(self.linesep)):
            raise HeaderError(f"{name} would be written as more than one header: {folded!r}")
        return folded


MAIL_POLICY = MailPolicy()
SMTP_POLICY = MAIL_POLICY.clone(linesep="\r\n")


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


def header_text_problem(text: str) -> str | None:
    """Why ``text`` cannot go into a header as it is, or None.

    Line breaks are not a problem (``single_line`` turns them into spaces); encoded-word
    syntax is, since mail readers decode it into different text.
    """
    if _ENCODED_WORD.search(text):
        return (
            "contains RFC 2047 encoded-word syntax ('=?...?='), which mail readers decode "
            "into other text (even into more header lines); write it as plain Unicode"
        )
    return None


def address_problem(address: str) -> str | None:
    """Why ``address`` is not exactly one bare addr-spec (``a@b.example``), or None."""
    try:
        if Address(addr_spec=address).addr_spec == address:
            return None
    except (ValueError, IndexError) as exc:
        return f"{address!r} is not one email address ({exc})"
    return f"{address!r} is not one bare email address"


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
        for what, text in (("subject", send.subject), ("campaign id", send.campaign_id)):
            problem = header_text_problem(text)
            if problem:
                raise HeaderError(f"send {send.send_id} (user {send.user_id!r}): {what} {problem}")
        problem = address_problem(send.email)
        if problem:
            raise HeaderError(f"send {send.send_id} (user {send.user_id!r}): {problem}")
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
            # One-click (RFC 8058) first: some receivers use only the first URI.
            "List-Unsubscribe": f"<{unsubscribe}>, <{mailto}>",
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
    """A multipart/alternative message (text first, HTML preferred) with every header.

    Write it with its own policy (``as_bytes()``), or ``SMTP_POLICY`` for CRLF: another
    policy would RFC 2047-encode List-Unsubscribe and skip the header checks.
    """
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = from_address
    msg["To"] = Address(addr_spec=rendered.send.email)
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
