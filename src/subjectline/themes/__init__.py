"""Theme stage: what a user's recommended items share, named."""

from subjectline.themes.contract import THEME_KINDS, Theme, ThemeKind

__all__ = ["THEME_KINDS", "Theme", "ThemeKind"]
