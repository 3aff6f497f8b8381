"""Recommendation stage: per-user top-K items with business filters (docs/recommend.md)."""

from subjectline.recommend.api import RECOMMENDATION_SCHEMA, recommend_for_users
from subjectline.recommend.filters import Filters
from subjectline.recommend.matrix import EVENT_WEIGHTS, InteractionMatrix
from subjectline.recommend.models import (
    ALS,
    EASE,
    MODELS,
    Popularity,
    Recommender,
    get_model,
    register_model,
)

__all__ = [
    "ALS",
    "EASE",
    "EVENT_WEIGHTS",
    "MODELS",
    "RECOMMENDATION_SCHEMA",
    "Filters",
    "InteractionMatrix",
    "Popularity",
    "Recommender",
    "get_model",
    "recommend_for_users",
    "register_model",
]
