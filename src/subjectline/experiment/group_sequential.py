"""Group-sequential tests: Lan-DeMets alpha spending over a planned number of looks.

A group-sequential design fixes in advance how much of the type I error ``alpha`` may be
spent by each information fraction ``t`` (the share of the planned sample seen so far).
At look ``k`` the two-sided boundary ``c_k`` solves

    P_H0(|Z_1| < c_1, ..., |Z_{k-1}| < c_{k-1}, |Z_k| >= c_k) = α(t_k) - α(t_{k-1})

where the sequential z statistics are jointly normal with ``corr(Z_i, Z_j) = sqrt(t_i/t_j)``
(i <= j). Spending functions (Lan & DeMets 1983), two-sided, each side spending half:

- O'Brien-Fleming type: ``α(t) = 2·(2 - 2Φ(z_{1-α/4} / sqrt(t)))``, Lan-DeMets' one-sided
  function at ``α/2`` on each side as in R's gsDesign (``sfLDOF``) and ldbounds (almost
  nothing is spent early);
- Pocock type: ``α(t) = α · log(1 + (e - 1)t)`` (nearly equal boundaries).

Unlike the mSPRT (``stats.msprt``), the design is valid only for the looks it is run on,
but it spends the whole ``alpha`` over them, so it is the more powerful choice when the
looks (one a day, say) are planned.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

FloatArray = npt.NDArray[np.float64]
Spending = Literal["obrien_fleming", "pocock"]
SPENDING_NAMES: dict[str, str] = {
    "obrien_fleming": "O'Brien-Fleming-type",
    "pocock": "Pocock-type",
}
# |Z| beyond this has probability below 1e-23 under H0: the grid stops there when a look
# spends nothing (an infinite boundary).
_Z_LIMIT = 10.0
# Simpson spacing: with these, boundaries move by less than 1e-7 when the grid is refined
# eightfold (checked on equal and unequal looks, K = 5 to 60).
_MAX_STEP = 0.025
# Caps the grid, and so the kernel matrix of one step (2001 x 2001 doubles, 32 MB).
_MAX_GRID = 2001


def alpha_spent(
    fractions: Sequence[float] | FloatArray,
    alpha: float = 0.05,
    spending: Spending = "obrien_fleming",
) -> FloatArray:
    """Cumulative two-sided alpha spent by each information fraction in (0, 1]."""
    t = np.clip(np.asarray(fractions, dtype=float), 0.0, 1.0)
    if spending == "obrien_fleming":
        with np.errstate(divide="ignore"):
            spent = 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(t))
    elif spending == "pocock":
        spent = alpha * np.log1p((math.e - 1) * t)
    else:
        raise ValueError(f"unknown spending function {spending!r}")
    return np.asarray(spent, dtype=float)


def spending_boundaries(
    fractions: Sequence[float] | FloatArray,
    alpha: float = 0.05,
    spending: Spending = "obrien_fleming",
) -> FloatArray:
    """Two-sided z boundaries at strictly increasing information fractions in (0, 1].

    The crossing probabilities are computed to numerical precision by the recursive
    numerical integration of Armitage, McPherson and Rowe (1969), as in Jennison & Turnbull
    (2000, ch. 19) and R's ldbounds/gsDesign. Written here rather than taken from a library:
    scipy's ``multivariate_normal.cdf`` is quasi-Monte Carlo beyond two dimensions, with
    errors near 1e-5 that vary with the seed, while the alpha spent at an early
    O'Brien-Fleming look is about 1e-6, and root finding on a noisy function is unstable;
    the Python group-sequential packages are young single-author projects. The tests check
    this recursion against published boundaries and against scipy.
    """
    t = np.asarray(fractions, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("information fractions must be a non-empty 1-D sequence")
    if t[0] <= 0 or t[-1] > 1 + 1e-12 or np.any(np.diff(t) <= 0):
        raise ValueError(f"information fractions must increase strictly within (0, 1]: {t}")
    increments = np.diff(alpha_spent(t, alpha, spending), prepend=0.0)
    boundaries = np.empty(t.size)
    boundaries[0] = math.inf if increments[0] <= 0 else float(stats.norm.isf(increments[0] / 2))
    grid, weights = _simpson_grid(boundaries[0], _grid_step(t, 0))
    # Probability of each grid point of the continuation region (Simpson weight x density).
    mass = weights * _normal_pdf(grid)
    for k in range(1, t.size):
        shrink = math.sqrt(t[k - 1] / t[k])  # E[Z_k | Z_{k-1} = z] = shrink · z
        spread = math.sqrt((t[k] - t[k - 1]) / t[k])  # sd of Z_k given Z_{k-1}
        means = shrink * grid
        target = increments[k]
        if target <= 1e-15:
            boundaries[k] = math.inf
        elif _exit_excess(0.0, mass, means, spread, target) <= 0:
            boundaries[k] = 0.0
        else:
            boundaries[k] = optimize.brentq(
                _exit_excess, 0.0, 40.0, args=(mass, means, spread, target), xtol=1e-12
            )
        if k + 1 < t.size:
            grid, weights = _simpson_grid(boundaries[k], _grid_step(t, k))
            kernel = _normal_pdf((grid[:, None] - means[None, :]) / spread) / spread
            mass = weights * (kernel @ mass)
    return boundaries


def _exit_excess(
    c: float, mass: FloatArray, means: FloatArray, spread: float, target: float
) -> float:
    """P(first |Z| >= c at this look) minus the alpha this look may spend."""
    tails = special.ndtr((means - c) / spread) + special.ndtr(-(c + means) / spread)
    return float(mass @ tails) - target


def _normal_pdf(x: FloatArray) -> FloatArray:
    # scipy.stats.norm.pdf checks its arguments on every call: 5 times slower here.
    return np.asarray(np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), dtype=float)


def _grid_step(t: FloatArray, k: int) -> float:
    """Grid spacing for Z_k: the next look integrates over it a normal kernel of sd
    sqrt((t_{k+1} - t_k) / t_k), which the grid must resolve."""
    if k + 1 >= t.size:
        return _MAX_STEP
    return min(_MAX_STEP, math.sqrt((t[k + 1] - t[k]) / t[k]) / 16)


def _simpson_grid(boundary: float, step: float) -> tuple[FloatArray, FloatArray]:
    """Points on the continuation region [-c, c] and their composite Simpson weights."""
    limit = min(boundary, _Z_LIMIT)
    intervals = min(_MAX_GRID - 1, max(2, 2 * math.ceil(limit / step)))
    grid = np.linspace(-limit, limit, intervals + 1)
    h = grid[1] - grid[0]
    weights = h / 3 * np.where(np.arange(intervals + 1) % 2 == 1, 4.0, 2.0)
    weights[0] = weights[-1] = h / 3
    return grid, weights


@dataclass(frozen=True)
class GroupSequentialResult:
    """A two-sided group-sequential test read at its looks so far (1-based look numbers)."""

    looks: int
    planned_looks: int
    information_fractions: list[float]
    boundaries: list[float]
    z: list[float]
    crossed_at_look: int | None
    reject: bool
    alpha: float
    spending: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: an infinite boundary (a look that spends nothing) or a NaN z is null."""
        result = asdict(self)
        for key in ("boundaries", "z"):
            result[key] = [v if math.isfinite(v) else None for v in result[key]]
        return result


def verdict(result: dict[str, Any], compact: bool = False) -> str:
    """The reading in words, from ``GroupSequentialResult.to_dict()`` (compact for a table)."""
    looks, planned = result["looks"], result["planned_looks"]
    if result["reject"]:
        look = result["crossed_at_look"]
        return f"reject {look}/{planned}" if compact else f"reject at look {look} of {planned}"
    word = "not rejected" if looks >= planned else "continue"
    return f"{word} {looks}/{planned}" if compact else f"{word} after {looks} of {planned} looks"


def information_fractions(information: FloatArray, planned_looks: int | None = None) -> FloatArray:
    """Fractions of the planned information at each look.

    The design is planned over ``planned_looks`` looks; when fewer have happened, the
    planned total is projected at the average information per look so far. With
    ``planned_looks`` None (or not more than the looks seen) the last look is the final one
    (fraction 1), the reading at the end of the experiment.
    """
    info = np.asarray(information, dtype=float)
    looks = info.size
    total = info[-1] * (planned_looks / looks if planned_looks and planned_looks > looks else 1)
    return np.asarray(info / total, dtype=float)


def informative_looks(information: FloatArray) -> npt.NDArray[np.bool_]:
    """Which looks count: those that add information (a day without sends is no look)."""
    running = np.fmax.accumulate(np.nan_to_num(np.asarray(information, dtype=float), nan=0.0))
    return np.asarray(np.diff(running, prepend=0.0) > 0)


@functools.lru_cache(maxsize=64)
def _cached_boundaries(
    fractions: tuple[float, ...], alpha: float, spending: Spending
) -> tuple[float, ...]:
    # Every metric of one treatment has the same looks: compute their boundaries once.
    return tuple(spending_boundaries(fractions, alpha, spending).tolist())


def group_sequential_test(
    z: FloatArray,
    information: FloatArray,
    alpha: float = 0.05,
    spending: Spending = "obrien_fleming",
    planned_looks: int | None = None,
) -> GroupSequentialResult | None:
    """Read the z statistics of successive looks against Lan-DeMets boundaries.

    ``information`` is proportional to the inverse variance of the estimate at each look
    (for a difference of two arms, ``n_c·n_t/(n_c+n_t)``). A look that adds no information
    (no sends that day) is not a look; None when no look has any information.
    """
    keep = informative_looks(information)
    if not keep.any():
        return None
    z = np.asarray(z, dtype=float)[keep]
    fractions = information_fractions(np.asarray(information, dtype=float)[keep], planned_looks)
    boundaries = np.array(_cached_boundaries(tuple(fractions.tolist()), alpha, spending))
    with np.errstate(invalid="ignore"):
        crossed = np.flatnonzero(np.abs(z) >= boundaries)
    looks = int(z.size)
    return GroupSequentialResult(
        looks=looks,
        planned_looks=max(planned_looks or looks, looks),
        information_fractions=[float(f) for f in fractions],
        boundaries=[float(b) for b in boundaries],
        z=[float(v) for v in z],
        crossed_at_look=int(crossed[0]) + 1 if crossed.size else None,
        reject=bool(crossed.size),
        alpha=alpha,
        spending=spending,
        method=f"group sequential, Lan-DeMets {SPENDING_NAMES[spending]} alpha spending",
    )
