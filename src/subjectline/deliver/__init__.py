"""Delivery: render sends to HTML and text, hand them to an ESP, write .eml or send by SMTP.

Public API::

    from subjectline.deliver import (
        Send, EmailItem, RenderedEmail, Renderer, RenderConfig, build_sends,
        write_batch, write_eml, write_esp, SmtpDelivery, SmtpSettings, example_invalid_address,
        suppressed_addresses, normalise_address, HeaderError, SmtpLoginError,
    )
"""

from subjectline.deliver.address import AddressBook, normalise_address, suppressed_addresses
from subjectline.deliver.build import BuildReport, build_sends
from subjectline.deliver.esp import write_batch, write_eml
from subjectline.deliver.esp_formats import ESPS, write_esp
from subjectline.deliver.records import (
    AddressResolver,
    EmailItem,
    RenderedEmail,
    Send,
    example_invalid_address,
    make_send_id,
)
from subjectline.deliver.render import HeaderError, RenderConfig, Renderer, to_message
from subjectline.deliver.smtp import DeliveryReport, SmtpDelivery, SmtpLoginError, SmtpSettings

__all__ = [
    "ESPS",
    "AddressBook",
    "AddressResolver",
    "BuildReport",
    "DeliveryReport",
    "EmailItem",
    "HeaderError",
    "RenderConfig",
    "RenderedEmail",
    "Renderer",
    "Send",
    "SmtpDelivery",
    "SmtpLoginError",
    "SmtpSettings",
    "build_sends",
    "example_invalid_address",
    "make_send_id",
    "normalise_address",
    "suppressed_addresses",
    "to_message",
    "write_batch",
    "write_eml",
    "write_esp",
]
