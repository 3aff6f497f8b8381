"""The theme record that generation, safety and scoring read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ThemeKind = Literal["category", "brand", "attribute", "new_arrivals", "price_band", "mixed"]
THEME_KINDS: tuple[str, ...] = (
    "category",
    "brand",
    "attribute",
    "new_arrivals",
    "price_band",
    "mixed",
)


@dataclass(frozen=True)
class Theme:
    """A distinct theme, shared by many users; titles are generated once per theme.

    ``key`` is canonical (``category:Sports > Running > Shoes``, ``brand:Nike``,
    ``attribute:color=red``, ``new_arrivals``, ``price_band:under-25``, ``mixed``);
    ``label`` is what a human (and the prompt) sees; ``root_category`` picks the
    per-category trade-off weight; ``example_titles`` are untrusted seller text,
    for the prompt only (delimited and escaped there). ``brands`` are the brands
    among the theme's items, ``attributes`` what all of them share.
    ``every_email_kinds`` and ``every_email_brands`` are the product kinds and brands that
    every email of the theme holds, when a campaign has counted them (None: not known);
    only those may be named in a subject that all of the theme's users receive.
    """

    key: str
    kind: ThemeKind
    label: str
    root_category: str
    coverage: float = 1.0
    example_titles: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    every_email_kinds: tuple[str, ...] | None = None
    every_email_brands: tuple[str, ...] | None = None

    @property
    def is_mixed(self) -> bool:
        return self.kind == "mixed"
