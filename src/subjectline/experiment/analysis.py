"""Experiment analysis from sufficient statistics computed in DuckDB.

One SQL pass over the sends (a CSV or Parquet file, or a Polars frame) returns, per arm and
day, the counts, sums, sums of squares and cross-products that every test needs; the
statistics in ``subjectline.experiment.stats`` run on those few numbers (the approach of
tea-tasting). Input problems are found in the same pass; only then does a second query
look for the first bad row to name it.

Metrics per send: open rate, CTR (clicks per send), CTOR (clicks per open, a ratio of
means), CVR (conversions per send), unsubscribe rate, revenue per send.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from subjectline.errors import DataError
from subjectline.experiment.definition import HOLDOUT, METRICS, Experiment
from subjectline.experiment.group_sequential import (
    GroupSequentialResult,
    Spending,
    group_sequential_test,
    informative_looks,
)
from subjectline.experiment.stats import (
    Comparison,
    Correction,
    SampleRatio,
    adjust_p_values,
    msprt,
    proportion_ztest,
    ratio_variance,
    sample_ratio_mismatch,
    welch_test,
)

SendsSource = Path | str | pl.DataFrame

FLAGS = ("opened", "clicked", "converted", "unsubscribed")
REQUIRED = ("user_id", "arm", *FLAGS, "revenue")
# metric -> the per-send column behind it (CTOR is clicks over opens).
METRIC_SUM = {
    "open_rate": "open",
    "ctr": "click",
    "cvr": "conv",
    "unsub_rate": "unsub",
    "revenue_per_send": "rev",
}
_FLAG_SUM = {"opened": "open", "clicked": "click", "converted": "conv", "unsubscribed": "unsub"}
_TRUE = ("1", "true", "t", "yes", "y")
_FALSE = ("0", "false", "f", "no", "n")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


@dataclass(frozen=True)
class ArmSummary:
    n: int
    open_rate: float
    ctr: float
    ctor: float
    cvr: float
    unsub_rate: float
    revenue_per_send: float


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    treatment: str
    control: str
    result: Comparison
    p_value_adjusted: float
    sequential_p_value: float
    sequential_ci95: tuple[float, float]
    group_sequential: GroupSequentialResult | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "metric": self.metric,
            "treatment": self.treatment,
            "control": self.control,
            "control_value": r.control_mean,
            "treatment_value": r.treatment_mean,
            "difference": r.difference,
            "relative_lift": r.relative_lift,
            "ci95": list(r.ci95),
            "relative_lift_ci95": list(r.relative_ci95),
            "p_value": r.p_value,
            "p_value_adjusted": self.p_value_adjusted,
            "method": r.method,
            "sequential": {
                "p_value": self.sequential_p_value,
                "ci95": list(self.sequential_ci95),
                "method": "mSPRT (normal mixture)",
            },
            "group_sequential": self.group_sequential.to_dict() if self.group_sequential else None,
        }


@dataclass
class Analysis:
    arms: dict[str, ArmSummary]
    comparisons: list[MetricComparison]
    srm: SampleRatio
    correction: str
    cuped: bool
    timeline: pl.DataFrame = field(default_factory=pl.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": {arm: vars(s) for arm, s in self.arms.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": {
                "expected_shares": self.srm.expected_shares,
                "observed": self.srm.observed,
                "p_value": self.srm.p_value,
                "mismatch": self.srm.mismatch,
            },
            "correction": self.correction,
            "cuped": self.cuped,
        }


def analyze(
    sends: SendsSource,
    control: str,
    expected_shares: dict[str, float] | None = None,
    correction: Correction = "holm",
    cuped: bool = True,
    mixture_lift: float = 0.10,
    srm_threshold: float = 0.001,
    alpha: float = 0.05,
    spending: Spending = "obrien_fleming",
    planned_looks: int | None = None,
) -> Analysis:
    """Per-arm metrics, treatment-vs-control comparisons, SRM and sequential results.

    ``expected_shares`` (arm -> planned share) defaults to equal shares; CUPED runs when
    the sends have ``pre_value`` and ``cuped`` is true. ``mixture_lift`` sets the mSPRT
    mixture scale: ``tau = mixture_lift · control mean``. With ``sent_at``, each comparison
    also gets a group-sequential test at level ``alpha`` over the daily looks (``spending``
    function; ``planned_looks`` days planned, default: the days seen, a final reading).
    """
    sums, name = sufficient_statistics(sends)
    totals = sums.group_by("arm").agg(pl.exclude("arm", "day").sum()).sort("arm")
    by_arm = {row["arm"]: row for row in totals.iter_rows(named=True)}
    if expected_shares and HOLDOUT not in by_arm:
        # The holdout gets no email, so it is usually absent from the sends.
        expected_shares = {a: s for a, s in expected_shares.items() if a != HOLDOUT}
    _check_arms(name, list(by_arm), control, expected_shares)
    has_pre = "s_pre" in sums.columns
    use_cuped = cuped and has_pre

    arms = {arm: _summary(row) for arm, row in by_arm.items()}
    # numpy scalars: an arm without opens (CTOR) or with one send gives NaN, not an exception.
    numeric = {
        arm: {k: np.float64(v) for k, v in row.items() if k != "arm"} for arm, row in by_arm.items()
    }
    cumulative = _cumulative(sums)
    days = cumulative.filter(pl.col("arm") == control)["day"]
    arrays = {
        arm: {c: part[c].to_numpy().astype(float) for c in part.columns if c not in ("arm", "day")}
        for (arm,), part in cumulative.group_by("arm")
    }
    design = _Design(alpha, spending, planned_looks) if days.null_count() < len(days) else None
    comparisons: list[tuple[str, str, Comparison, _Sequential]] = []
    timeline_parts: list[pl.DataFrame] = []
    for treatment in (a for a in by_arm if a != control):
        for metric in METRICS:
            with np.errstate(divide="ignore", invalid="ignore"):
                result = _compare(metric, numeric[control], numeric[treatment], use_cuped)
            seq, part = _sequential(
                metric, arrays[control], arrays[treatment], days, mixture_lift, design
            )
            part = part.with_columns(pl.lit(treatment).alias("treatment"))
            comparisons.append((metric, treatment, result, seq))
            timeline_parts.append(part)
    adjusted = adjust_p_values([c[2].p_value for c in comparisons], correction)
    srm = sample_ratio_mismatch(
        {a: int(r["n"]) for a, r in by_arm.items()},
        expected_shares or {a: 1.0 for a in by_arm},
        srm_threshold,
    )
    return Analysis(
        arms=arms,
        comparisons=[
            MetricComparison(m, t, control, r, adj, seq.p_value, seq.ci95, seq.group_sequential)
            for (m, t, r, seq), adj in zip(comparisons, adjusted, strict=True)
        ],
        srm=srm,
        correction=correction,
        cuped=use_cuped,
        timeline=pl.concat(timeline_parts) if timeline_parts else pl.DataFrame(),
    )


def analyze_experiment(
    sends: SendsSource, experiment: Experiment, correction: Correction = "holm"
) -> Analysis:
    """``analyze`` with the control, planned shares and MDE of a stored definition."""
    return analyze(
        sends,
        experiment.control,
        experiment.expected_shares(include_holdout=experiment.holdout_share > 0),
        correction,
        mixture_lift=experiment.mde,
        alpha=experiment.alpha,
    )


# --- reading and validating -------------------------------------------------------------


def sufficient_statistics(sends: SendsSource) -> tuple[pl.DataFrame, str]:
    """Per (arm, day) counts and sums from one DuckDB pass; raises DataError on bad input.

    Columns: ``n``, ``s_<m>`` (sum) for m in open/click/conv/unsub/rev, ``ss_rev``,
    ``s_open_click``, and with ``pre_value``: ``s_pre``, ``ss_pre``, ``x_<m>`` (sum of
    m·pre). ``day`` is null when the sends have no ``sent_at``.
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        name = _register(con, sends)
        types = {row[0]: str(row[1]) for row in con.execute("DESCRIBE raw_sends").fetchall()}
        missing = [c for c in REQUIRED if c not in types]
        if missing:
            raise DataError(name, f"missing column(s) {', '.join(missing)}", column=missing[0])
        exprs = _normalized(types)
        has_pre, has_day = "pre_value" in exprs, "sent_at" in exprs
        cols = ", ".join(f"{expr} AS {col}" for col, expr in exprs.items())
        # Day number since the epoch (UTC): integer arithmetic, far cheaper than date_trunc
        # on a time-zone-aware timestamp.
        day = f"epoch_us(sent_at) // {86_400 * 10**6}" if has_day else "CAST(NULL AS BIGINT)"
        sums = {
            **{f"s_{_FLAG_SUM[flag]}": flag for flag in FLAGS},
            "s_rev": "revenue",
            "ss_rev": "revenue * revenue",
            "s_open_click": "opened * clicked",
        }
        if has_pre:
            sums |= {"s_pre": "pre_value", "ss_pre": "pre_value * pre_value"}
            sums |= {f"x_{_FLAG_SUM[f]}": f"{f} * pre_value" for f in FLAGS}
            sums["x_rev"] = "revenue * pre_value"
        aggregates = [
            "count(*) AS n",
            *(f"CAST(sum({expr}) AS DOUBLE) AS {alias}" for alias, expr in sums.items()),
            *(f"count(*) - count({col}) AS bad_{col}" for col in exprs),
        ]
        frame = con.sql(
            f"SELECT arm, {day} AS day, {', '.join(aggregates)} "
            f"FROM (SELECT {cols} FROM raw_sends) GROUP BY ALL ORDER BY ALL"
        ).pl()
        if frame.height == 0:
            raise DataError(name, "no sends (the file has no rows)")
        for col in exprs:
            if frame[f"bad_{col}"].sum():
                _raise_first_bad(con, name, col, exprs[col])
        return frame.drop([f"bad_{c}" for c in exprs]).with_columns(
            pl.col("n").cast(pl.Int64),
            pl.from_epoch(pl.col("day") * 86_400, time_unit="s").dt.replace_time_zone("UTC"),
        ), name
    finally:
        con.close()


def _register(con: duckdb.DuckDBPyConnection, sends: SendsSource) -> str:
    if isinstance(sends, pl.DataFrame):
        con.register("raw_sends", sends.to_arrow())
        return "<sends frame>"
    path = Path(sends)
    if not path.exists():
        raise DataError(str(path), "file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError(str(path), "expected a .csv or .parquet file")
    literal = "'" + str(path).replace("'", "''") + "'"
    reader = (
        f"read_csv({literal}, header = true)" if suffix == ".csv" else f"read_parquet({literal})"
    )
    try:
        con.execute(f"CREATE VIEW raw_sends AS SELECT * FROM {reader}")
    except duckdb.Error as exc:
        raise DataError(str(path), f"cannot read file: {exc}") from exc
    return str(path)


def _is_numeric(dtype: str) -> bool:
    return dtype.startswith(_NUMERIC) or (dtype.startswith("U") and "INT" in dtype)


def _normalized(types: dict[str, str]) -> dict[str, str]:
    """SQL per column giving the clean value, or NULL where the raw value is bad."""
    exprs: dict[str, str] = {
        "arm": "NULLIF(trim(CAST(arm AS VARCHAR)), '')",
        "user_id": "user_id",
    }
    for flag in FLAGS:
        dtype, col = types[flag], f'"{flag}"'
        if dtype == "BOOLEAN":
            exprs[flag] = f"CAST({col} AS TINYINT)"
        elif _is_numeric(dtype):
            exprs[flag] = f"CASE WHEN {col} IN (0, 1) THEN CAST({col} AS TINYINT) END"
        else:
            low = f"lower(trim(CAST({col} AS VARCHAR)))"
            exprs[flag] = (
                f"CASE WHEN {low} IN {_TRUE} THEN CAST(1 AS TINYINT) "
                f"WHEN {low} IN {_FALSE} THEN CAST(0 AS TINYINT) END"
            )
    for col in ("revenue", "pre_value"):
        if col in types:
            raw = f'TRY_CAST("{col}" AS DOUBLE)'
            exprs[col] = f"CASE WHEN isfinite({raw}) THEN {raw} END"
    if "sent_at" in types:
        exprs["sent_at"] = 'TRY_CAST("sent_at" AS TIMESTAMPTZ)'
    return exprs


def _raise_first_bad(con: duckdb.DuckDBPyConnection, name: str, col: str, expr: str) -> None:
    row = con.execute(
        f'SELECT rn, CAST("{col}" AS VARCHAR) FROM '
        "(SELECT row_number() OVER () AS rn, * FROM raw_sends) "
        f"WHERE ({expr}) IS NULL ORDER BY rn LIMIT 1"
    ).fetchall()
    number, value = int(row[0][0]), row[0][1]
    if value is None or (col == "arm" and not value.strip()):
        raise DataError(name, "value is missing", number, col)
    expected = {
        "revenue": "a finite number",
        "pre_value": "a finite number",
        "sent_at": "a date-time (ISO 8601)",
    }.get(col, "0/1 or true/false")
    raise DataError(name, f"expected {expected}, got {value!r}", number, col)


def _check_arms(
    name: str, arms: list[str], control: str, expected: dict[str, float] | None
) -> None:
    if control not in arms:
        raise DataError(name, f"control arm {control!r} has no sends; arms: {arms}", column="arm")
    if len(arms) < 2:
        raise DataError(name, f"only the control arm {control!r} has sends", column="arm")
    if expected is not None:
        empty = [a for a in expected if a not in arms]
        if empty:
            raise DataError(
                name, f"arm {empty[0]!r} has no rows (expected {sorted(expected)})", column="arm"
            )
        unknown = [a for a in arms if a not in expected]
        if unknown:
            raise DataError(name, f"arm {unknown[0]!r} is not an expected arm", column="arm")


# --- statistics from the sums -----------------------------------------------------------


def _summary(row: dict[str, Any]) -> ArmSummary:
    n = row["n"]
    return ArmSummary(
        n=int(n),
        open_rate=row["s_open"] / n,
        ctr=row["s_click"] / n,
        ctor=row["s_click"] / row["s_open"] if row["s_open"] else math.nan,
        cvr=row["s_conv"] / n,
        unsub_rate=row["s_unsub"] / n,
        revenue_per_send=row["s_rev"] / n,
    )


def _sq(row: dict[str, Any], key: str) -> Any:
    """Sum of squares of a column: equal to its sum for a 0/1 flag."""
    return row["ss_rev"] if key == "rev" else row[f"s_{key}"]


def _var(n: Any, s: Any, ss: Any) -> Any:
    return (ss - s * s / n) / (n - 1)


def _cov(n: Any, sa: Any, sb: Any, sab: Any) -> Any:
    return (sab - sa * sb / n) / (n - 1)


def _mean_var(row: dict[str, Any], metric: str) -> tuple[Any, Any]:
    """Mean and per-send sample variance of a metric (delta method for CTOR)."""
    n = row["n"]
    if metric == "ctor":
        mean_c, mean_o = row["s_click"] / n, row["s_open"] / n
        var_c, var_o = (
            _var(n, row["s_click"], row["s_click"]),
            _var(n, row["s_open"], row["s_open"]),
        )
        cov = _cov(n, row["s_click"], row["s_open"], row["s_open_click"])
        return mean_c / mean_o, ratio_variance(mean_c, var_c, mean_o, var_o, cov)
    key = METRIC_SUM[metric]
    return row[f"s_{key}"] / n, _var(n, row[f"s_{key}"], _sq(row, key))


def _compare(metric: str, c: dict[str, Any], t: dict[str, Any], cuped: bool) -> Comparison:
    if metric == "ctor":
        return welch_test(*_args(c, t, metric), method="delta-method welch t-test")
    if cuped:
        return _cuped(metric, c, t)
    if metric == "revenue_per_send":
        return welch_test(*_args(c, t, metric))
    key = METRIC_SUM[metric]
    return proportion_ztest(c[f"s_{key}"], c["n"], t[f"s_{key}"], t["n"])


def _args(
    c: dict[str, Any], t: dict[str, Any], metric: str
) -> tuple[float, float, float, float, float, float]:
    mc, vc = _mean_var(c, metric)
    mt, vt = _mean_var(t, metric)
    return mc, vc, c["n"], mt, vt, t["n"]


def _cuped(metric: str, c: dict[str, Any], t: dict[str, Any]) -> Comparison:
    """CUPED: ``y - θ(x - x̄)`` with θ = cov(y, x)/var(x) over both arms (as tea-tasting)."""
    key = METRIC_SUM[metric]
    both = {k: c[k] + t[k] for k in ("n", f"s_{key}", "s_pre", "ss_pre", f"x_{key}")}
    var_x = _var(both["n"], both["s_pre"], both["ss_pre"])
    cov_xy = _cov(both["n"], both[f"s_{key}"], both["s_pre"], both[f"x_{key}"])
    theta = cov_xy / var_x if var_x > 0 else 0.0
    x_bar = both["s_pre"] / both["n"]

    def adjusted(row: dict[str, Any]) -> tuple[float, float]:
        n = row["n"]
        mean_y, var_y = _mean_var(row, metric)
        var_x_arm = _var(n, row["s_pre"], row["ss_pre"])
        cov_arm = _cov(n, row[f"s_{key}"], row["s_pre"], row[f"x_{key}"])
        mean = mean_y - theta * (row["s_pre"] / n - x_bar)
        return mean, var_y + theta * theta * var_x_arm - 2 * theta * cov_arm

    (mc, vc), (mt, vt) = adjusted(c), adjusted(t)
    return welch_test(mc, vc, c["n"], mt, vt, t["n"], method="cuped welch t-test")


def _cumulative(sums: pl.DataFrame) -> pl.DataFrame:
    """Cumulative sums per arm at each day (a full arm × day grid, zero-filled)."""
    value_cols = [c for c in sums.columns if c not in ("arm", "day")]
    grid = (
        sums.select("arm")
        .unique()
        .join(sums.select("day").unique(), how="cross")
        .join(sums, on=["arm", "day"], how="left", nulls_equal=True)
        .with_columns(pl.col(value_cols).fill_null(0))
        .sort("arm", "day", nulls_last=True)
    )
    return grid.with_columns(pl.col(value_cols).cum_sum().over("arm"))


@dataclass(frozen=True)
class _Design:
    alpha: float
    spending: Spending
    planned_looks: int | None


@dataclass(frozen=True)
class _Sequential:
    p_value: float
    ci95: tuple[float, float]
    group_sequential: GroupSequentialResult | None


def _sequential(
    metric: str,
    c: dict[str, Any],
    t: dict[str, Any],
    days: pl.Series,
    mixture_lift: float,
    design: _Design | None,
) -> tuple[_Sequential, pl.DataFrame]:
    """mSPRT and the group-sequential test over the daily looks (cumulative sums per day).

    Returns the last look (mSPRT p-value, confidence sequence; group-sequential reading)
    and the timeline of all looks.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        mc, vc = _mean_var(c, metric)
        mt, vt = _mean_var(t, metric)
        variance = vc / c["n"] + vt / t["n"]
        z = (mt - mc) / np.sqrt(variance)
        # Information of the difference ∝ 1/Var: n_c·n_t/(n_c + n_t) for every metric.
        information = c["n"] * t["n"] / (c["n"] + t["n"])
    diff = mt - mc
    tau = mixture_lift * abs(float(mc[-1])) if np.isfinite(mc[-1]) else 0.0
    tau2 = max(tau * tau, float(np.nanmax(variance)) * 1e-6, np.finfo(float).tiny)
    p_values, lower, upper = msprt(diff, variance, tau2)
    half = 1.959963984540054 * np.sqrt(variance)
    gs = None
    gs_boundary = np.full(len(days), np.nan)
    if design is not None:
        gs = group_sequential_test(
            z, information, design.alpha, design.spending, design.planned_looks
        )
        if gs is not None:
            # null in the timeline where a day is no look or its look spends no alpha.
            finite = np.array(gs.boundaries)
            gs_boundary[informative_looks(information)] = np.where(
                np.isfinite(finite), finite, np.nan
            )
    part = pl.DataFrame(
        {
            "metric": metric,
            "day": days,
            "n_control": c["n"],
            "n_treatment": t["n"],
            "control_value": mc,
            "treatment_value": mt,
            "difference": diff,
            "ci_low": diff - half,
            "ci_high": diff + half,
            "cs_low": lower,
            "cs_high": upper,
            "sequential_p_value": p_values,
            "z": z,
            "gs_boundary": gs_boundary,
        }
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
    last = _Sequential(float(p_values[-1]), (float(lower[-1]), float(upper[-1])), gs)
    return last, part
