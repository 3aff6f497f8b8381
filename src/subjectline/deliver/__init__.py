"""Delivery: render sends to HTML and text, hand them to an ESP, write .eml or send by SMTP.

Public API::

    from subjectline.deliver import (
        Send, EmailItem, RenderedEmail, Renderer, RenderConfig, build_sends,
        write_batch, write_eml, SmtpDelivery, SmtpSettings, example_invalid_address,
    )
"""

from subjectline.deliver.address import AddressBook
from subjectline.deliver.build import BuildReport, build_sends
from subjectline.deliver.esp import write_batch, write_eml
from subjectline.deliver.records import (
    AddressResolver,
    EmailItem,
    RenderedEmail,
    Send,
    example_invalid_address,
    make_send_id,
)
from subjectline.deliver.render import RenderConfig, Renderer, to_message
from subjectline.deliver.smtp import DeliveryReport, SmtpDelivery, SmtpSettings

__all__ = [
    "AddressBook",
    "AddressResolver",
    "BuildReport",
    "DeliveryReport",
    "EmailItem",
    "RenderConfig",
    "RenderedEmail",
    "Renderer",
    "Send",
    "SmtpDelivery",
    "SmtpSettings",
    "build_sends",
    "example_invalid_address",
    "make_send_id",
    "to_message",
    "write_batch",
    "write_eml",
]
