from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from subjectline.errors import DataError
from subjectline.simulate.feedback import LoggedFeedback


def _fields(n: int = 4, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "n_rounds": n,
        "n_actions": 3,
        "context": np.arange(n * 2, dtype=float).reshape(n, 2),
        "action": np.array([0, 1, 2, 1][:n]),
        "reward": np.array([0.0, 1.0, 0.0, 1.0][:n]),
        "pscore": np.array([0.5, 0.25, 1.0, 0.25][:n]),
        "position": np.array([0, 1, 0, 2][:n]),
        "action_context": np.eye(3),
    }
    fields.update(overrides)
    return fields


def test_valid_feedback_is_coerced_and_frozen() -> None:
    source = _fields()
    feedback = LoggedFeedback(**source)
    assert feedback.action.dtype == np.int64
    assert feedback.len_list == 3 and feedback.dim_context == 2
    source["reward"][0] = 9.0  # the log keeps its own copy
    assert feedback.reward[0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        feedback.reward[0] = 1.0
    with pytest.raises(AttributeError):
        feedback.n_rounds = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "column", "row"),
    [
        ({"pscore": np.array([0.5, 0.0, 1.0, 0.25])}, "pscore", 2),
        ({"pscore": np.array([0.5, 0.2, 1.5, 0.25])}, "pscore", 3),
        ({"pscore": np.array([0.5, 0.2, np.nan, 0.25])}, "pscore", 3),
        ({"action": np.array([0, 1, 3, 1])}, "action", 3),
        ({"action": np.array([0, -1, 2, 1])}, "action", 2),
        ({"action": np.array([0.0, 1.5, 2.0, 1.0])}, "action", 2),
        ({"reward": np.array([0.0, np.inf, 0.0, 1.0])}, "reward", 2),
        ({"position": np.array([0, 0, -1, 0])}, "position", 3),
        ({"context": np.array([[0.0, 1.0], [np.nan, 0.0], [0.0, 0.0], [1.0, 1.0]])}, "context", 2),
    ],
)
def test_bad_values_name_the_field_and_round(
    overrides: dict[str, Any], column: str, row: int
) -> None:
    with pytest.raises(DataError) as info:
        LoggedFeedback(**_fields(**overrides))
    assert info.value.column == column
    assert info.value.row == row


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"n_rounds": 5}, "context"),
        ({"n_rounds": 0}, "n_rounds"),
        ({"n_actions": 0}, "n_actions"),
        ({"context": np.zeros(4)}, "context"),
        ({"reward": np.zeros(3)}, "reward"),
        ({"pscore": np.full(5, 0.5)}, "pscore"),
        ({"position": np.zeros(2, dtype=int)}, "position"),
        ({"action_context": np.eye(2)}, "action_context"),
        ({"action": np.array(["a", "b", "c", "d"])}, "action"),
    ],
)
def test_bad_shapes_and_types_are_rejected(overrides: dict[str, Any], column: str) -> None:
    with pytest.raises(DataError) as info:
        LoggedFeedback(**_fields(**overrides))
    assert info.value.column == column


def test_frame_round_trip_keeps_every_field() -> None:
    feedback = LoggedFeedback(**_fields())
    frame = feedback.to_frame()
    assert frame.columns == ["action", "reward", "pscore", "position", "context_0", "context_1"]
    back = LoggedFeedback.from_frame(frame, n_actions=3, action_context=np.eye(3))
    for name in ("context", "action", "reward", "pscore", "position", "action_context"):
        np.testing.assert_array_equal(getattr(back, name), getattr(feedback, name))
    assert back.n_actions == 3


def test_frame_without_position_or_context() -> None:
    feedback = LoggedFeedback(**_fields(position=None, context=np.zeros((4, 0))))
    frame = feedback.to_frame()
    assert frame.columns == ["action", "reward", "pscore"]
    back = LoggedFeedback.from_frame(frame)
    assert back.position is None and back.len_list == 1
    assert back.context.shape == (4, 0)
    assert back.n_actions == 3  # inferred as max(action) + 1
    np.testing.assert_array_equal(back.positions(), np.zeros(4))


def test_from_frame_reports_missing_columns_and_nulls() -> None:
    frame = LoggedFeedback(**_fields()).to_frame()
    with pytest.raises(DataError, match="pscore"):
        LoggedFeedback.from_frame(frame.drop("pscore"))
    nulls = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(None).otherwise(pl.col("reward")).alias("reward")
    )
    with pytest.raises(DataError) as info:
        LoggedFeedback.from_frame(nulls)
    assert (info.value.column, info.value.row) == ("reward", 3)


def test_subset_keeps_the_action_set() -> None:
    feedback = LoggedFeedback(**_fields())
    part = feedback.subset(np.array([True, False, True, False]))
    assert part.n_rounds == 2 and part.n_actions == 3
    np.testing.assert_array_equal(part.action, [0, 2])
    np.testing.assert_array_equal(part.action_context, feedback.action_context)
