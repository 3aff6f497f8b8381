"""Data stage: the data contract, its sources (synthetic, MovieLens) and the workspace."""

from subjectline.data.contract import (
    EVENTS,
    INTERACTION_SCHEMA,
    ITEM_SCHEMA,
    PROMOTION_SCHEMA,
    PROMOTION_SCOPES,
    SCHEMAS,
    USER_SCHEMA,
    Interaction,
    Item,
    Promotion,
    User,
)

__all__ = [
    "EVENTS",
    "INTERACTION_SCHEMA",
    "ITEM_SCHEMA",
    "PROMOTION_SCHEMA",
    "PROMOTION_SCOPES",
    "SCHEMAS",
    "USER_SCHEMA",
    "Interaction",
    "Item",
    "Promotion",
    "User",
]
