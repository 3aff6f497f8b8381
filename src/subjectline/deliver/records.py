"""Typed records for one email: what is sent to whom, and how it is rendered."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from subjectline.track.store import SendRecord

# Resolves a user id to an email address, or None to skip the user. The data contract
# has no email column: production plugs in its own address book (``AddressBook``).
AddressResolver = Callable[[str], str | None]

_LOCAL_PART_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def example_invalid_address(user_id: str) -> str:
    """A test address ``{user_id}@example.invalid`` (RFC 2606: never deliverable).

    Characters not allowed in a local part become ``-``, and a short hash keeps such
    addresses distinct.
    """
    local = _LOCAL_PART_UNSAFE.sub("-", user_id)[:48] or "user"
    if local != user_id:
        local += "-" + hashlib.sha256(user_id.encode()).hexdigest()[:8]
    return f"{local}@example.invalid"


def make_send_id(campaign_id: str, user_id: str) -> str:
    """Deterministic, so that rebuilding a campaign after a crash gives the same keys."""
    digest = hashlib.sha256(f"{campaign_id}\x00{user_id}".encode()).hexdigest()
    return f"s{digest[:31]}"


@dataclass(frozen=True)
class EmailItem:
    """One recommended item as the email shows it; ``url`` is where its link lands."""

    item_id: str
    title: str
    price: float
    currency: str
    url: str
    image_url: str


@dataclass(frozen=True)
class Send:
    """One email to one user in one campaign."""

    send_id: str
    campaign_id: str
    user_id: str
    email: str
    subject: str
    preheader: str
    arm: str
    items: tuple[EmailItem, ...]
    theme_key: str | None = None
    theme_label: str | None = None
    first_name: str | None = None
    locale: str = "en"


@dataclass(frozen=True)
class RenderedEmail:
    """A send rendered: bodies, tracked URLs and the headers every channel needs.

    ``links`` are the destinations recorded in the event store (link index = position);
    ``tracked_links`` are the signed URLs the email shows for them.
    """

    send: Send
    subject: str
    html: str
    text: str
    links: tuple[str, ...]
    tracked_links: tuple[str, ...]
    open_pixel_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_send_record(self) -> SendRecord:
        """What the event store keeps: attribution fields and the redirect targets."""
        send = self.send
        return SendRecord(
            send_id=send.send_id,
            campaign_id=send.campaign_id,
            user_id=send.user_id,
            email=send.email,
            arm=send.arm,
            subject=self.subject,
            links=self.links,
            theme_key=send.theme_key,
        )
