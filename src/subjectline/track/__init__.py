"""Tracking: signed links, the tracking service and the event store.

Public API::

    from subjectline.track import (
        KeyRing, TokenSigner, make_engine, migrate, sends_frame, suppressed_user_ids,
    )
"""

from subjectline.track.store import (
    Event,
    SendRecord,
    add_suppressions,
    default_url,
    make_engine,
    migrate,
    record_event,
    register_sends,
    sends_frame,
    suppressed_user_ids,
    workspace_suppressions,
)
from subjectline.track.tokens import InvalidToken, KeyRing, TokenSigner

__all__ = [
    "Event",
    "InvalidToken",
    "KeyRing",
    "SendRecord",
    "TokenSigner",
    "add_suppressions",
    "default_url",
    "make_engine",
    "migrate",
    "record_event",
    "register_sends",
    "sends_frame",
    "suppressed_user_ids",
    "workspace_suppressions",
]
