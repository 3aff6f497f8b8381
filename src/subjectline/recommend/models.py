"""Recommenders behind one small interface, in the spirit of the ``implicit`` library.

A model is fitted on a user x item CSR matrix of confidence weights
(:class:`~subjectline.recommend.matrix.InteractionMatrix`) and then scores users in
batches. :meth:`Recommender.recommend` turns scores into a top-K list with the business
filters applied as masks, batch by batch, with a row-wise partition (no per-user loop), so
one million users by twenty thousand items runs in bounded memory.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from subjectline.errors import SubjectlineError

DEFAULT_BATCH_USERS = 4096
# Scores, the partitioned copy and masks of one batch take under 16 bytes per cell;
# the batch shrinks so that they stay under this budget however many items there are.
BATCH_MEMORY_BYTES = int(os.environ.get("SUBJECTLINE_RECOMMEND_BATCH_BYTES", 1 << 30))
BYTES_PER_CELL = 16
# EASE inverts on one BLAS thread below this many items (see EASE._fit).
SINGLE_THREAD_ITEMS = 4000

Progress = Callable[[int], None]


class Recommender(ABC):
    """``fit`` on a user x item CSR of confidence weights, then ``score``/``recommend``.

    ``userids`` are row indices of the matrix given to ``fit``; ``user_items`` are the
    rows of those users (their histories, which EASE and popularity score from and ALS
    ignores because it keeps per-user factors).
    """

    name: ClassVar[str]
    fit_seconds: float = 0.0

    @abstractmethod
    def _fit(self, user_items: sp.csr_matrix) -> None: ...

    @abstractmethod
    def score(self, userids: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        """Dense ``float32`` scores, shape ``(len(userids), n_items)``; higher is better."""

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The hyperparameters, enough to rebuild the model with ``get_model(name, **p)``."""

    def fit(self, user_items: sp.csr_matrix) -> Self:
        started = time.perf_counter()
        self._fit(sp.csr_matrix(user_items, dtype=np.float32))
        self.fit_seconds = time.perf_counter() - started
        return self

    def recommend(
        self,
        userids: np.ndarray,
        user_items: sp.csr_matrix,
        k: int = 10,
        *,
        exclude: sp.csr_matrix | None = None,
        item_mask: np.ndarray | None = None,
        item_boost: np.ndarray | None = None,
        batch_size: int = DEFAULT_BATCH_USERS,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` item indices and scores for each user, best first.

        ``user_items`` and ``exclude`` are whole user x item matrices (rows are picked
        by ``userids``): ``exclude`` marks pairs never to recommend (already purchased),
        ``item_mask`` is False for items never to recommend (out of stock), and
        ``item_boost`` multiplies each item's score (see :func:`apply_boost`). Returns
        ``(items, scores)`` of shape ``(len(userids), k)``; when fewer than ``k`` items
        are allowed the tail holds item -1 and score ``-inf``. ``workers`` batches run
        at once (each holds a batch of scores in memory).
        """
        userids = np.asarray(userids, dtype=np.int64)
        n_items = user_items.shape[1]
        k = max(0, min(k, n_items))
        out_items = np.full((len(userids), k), -1, dtype=np.int32)
        out_scores = np.full((len(userids), k), -np.inf, dtype=np.float32)
        if k == 0 or len(userids) == 0:
            return out_items, out_scores
        blocked = np.flatnonzero(~item_mask) if item_mask is not None else None
        boosted = np.flatnonzero(item_boost != 1.0) if item_boost is not None else None
        step = batch_rows(batch_size, n_items, workers)
        boost = None
        if item_boost is not None and boosted is not None and boosted.size:
            boost = (boosted, item_boost[boosted])

        def run_batch(start: int) -> None:
            rows = userids[start : start + step]
            scores = self.score(rows, user_items[rows])
            if boost is not None:
                apply_boost(scores, *boost)
            if exclude is not None:
                mask_pairs(scores, exclude[rows])
            if blocked is not None and blocked.size:
                scores[:, blocked] = -np.inf
            items, best = top_k(scores, k)
            out_items[start : start + len(rows)] = items
            out_scores[start : start + len(rows)] = best
            if progress is not None:
                progress(len(rows))

        starts = range(0, len(userids), step)
        if workers <= 1 or len(starts) == 1:
            for start in starts:
                run_batch(start)
        else:
            # NumPy and SciPy release the GIL in the heavy parts (product, partition), and
            # each batch writes its own slice of the output.
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run_batch, starts))
        return out_items, out_scores


def batch_rows(batch_size: int, n_items: int, workers: int = 1) -> int:
    """Users per batch: ``batch_size``, shrunk so that ``workers`` batches at once fit
    :data:`BATCH_MEMORY_BYTES`."""
    by_memory = BATCH_MEMORY_BYTES // max(1, n_items * BYTES_PER_CELL * max(1, workers))
    return max(1, min(batch_size, by_memory))


def apply_boost(scores: np.ndarray, columns: np.ndarray, factors: np.ndarray) -> None:
    """Boost ``columns`` in place: positive scores times ``factor``, negative ones divided.

    Dividing negatives keeps a boost a boost whatever the sign (EASE and ALS scores can be
    negative); a factor below 1 demotes in the same way.
    """
    sub = scores[:, columns]
    scores[:, columns] = np.where(sub > 0, sub * factors, sub / factors)


def mask_pairs(scores: np.ndarray, pairs: sp.csr_matrix) -> None:
    """Set ``scores[r, c] = -inf`` for every stored entry ``(r, c)`` of ``pairs``."""
    pairs = sp.csr_matrix(pairs)
    rows = np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))
    scores[rows, pairs.indices] = -np.inf


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-``k`` by score, best first; equal scores go to the lower item index.

    ``np.partition`` finds each row's k-th best value in O(n_items); only the cells at or
    above it are then sorted. Filtered cells (``-inf``) never qualify: a row with fewer
    than ``k`` finite scores is padded with item -1 and score ``-inf``.
    """
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    items = np.full((n_rows, k), -1, dtype=np.int32)
    best = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if k == 0 or n_rows == 0:
        return items, best
    if k < n_items:
        kth = np.partition(scores, n_items - k, axis=1)[:, n_items - k]
    else:
        kth = scores.min(axis=1)
    rows, cols = np.nonzero((scores >= kth[:, None]) & (scores > -np.inf))
    values = scores[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    slot = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = slot < k  # ties at the k-th value can bring more than k candidates
    items[rows[keep], slot[keep]] = cols[keep]
    best[rows[keep], slot[keep]] = values[keep]
    return items, best


class Popularity(Recommender):
    """Everyone gets the most popular items: the sum of each item's confidence weights.

    With ``weighted=False`` popularity is the number of users who touched the item.
    (Both were equal to 1e-4 recall on the MovieLens-100k validation split.)
    """

    name = "popularity"

    def __init__(self, weighted: bool = True):
        self.weighted = weighted
        self.item_scores = np.zeros(0, dtype=np.float32)

    @property
    def params(self) -> dict[str, Any]:
        return {"weighted": self.weighted}

    def _fit(self, user_items: sp.csr_matrix) -> None:
        if self.weighted:
            counts = np.asarray(user_items.sum(axis=0)).ravel()
        else:
            counts = np.bincount(user_items.indices, minlength=user_items.shape[1])
        self.item_scores = counts.astype(np.float32)

    def score(self, userids: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.item_scores, (len(userids), 1))


class ALS(Recommender):
    """Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) via ``implicit``.

    Confidence is ``1 + alpha * weight``. Defaults were tuned on a MovieLens-100k
    validation split (docs/recommend.md). ``implicit`` runs its own threads (``num_threads``,
    0 = all cores), so BLAS is held to one thread during ``fit`` as ``implicit`` advises.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 10.0,
        alpha: float = 0.25,
        iterations: int = 15,
        seed: int = 0,
        num_threads: int = 0,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads
        self.user_factors = np.zeros((0, factors), dtype=np.float32)
        self.item_factors = np.zeros((0, factors), dtype=np.float32)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "seed": self.seed,
        }

    def _fit(self, user_items: sp.csr_matrix) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit checks the BLAS pool when the model is built, so build it inside too.
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                calculate_training_loss=False,
                random_state=self.seed,
                num_threads=self.num_threads,
            )
            model.fit(user_items, show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)

    def score(self, userids: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        if userids.size and userids.max() >= len(self.user_factors):
            raise SubjectlineError("ALS scores only users of the matrix it was fitted on")
        scores: np.ndarray = self.user_factors[userids] @ self.item_factors.T
        return scores


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder (Steck 2019), closed form.

    ``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` and ``diag(B) = 0``; a user's
    scores are ``x_u B``. ``binary=True`` fits on 0/1 instead of the confidence weights.
    The default ``lam`` was tuned on a MovieLens-100k validation split (docs/recommend.md).
    Fitting costs O(n_items^3) time and two n_items^2 float64 matrices (20k items:
    ~6.4 GB and a few minutes); scoring is a sparse x dense product per batch.
    """

    name = "ease"

    def __init__(self, lam: float = 2000.0, binary: bool = False):
        self.lam = lam
        self.binary = binary
        self.weights = np.zeros((0, 0), dtype=np.float32)

    @property
    def params(self) -> dict[str, Any]:
        return {"lam": self.lam, "binary": self.binary}

    def _input(self, user_items: sp.csr_matrix) -> sp.csr_matrix:
        if not self.binary:
            return user_items
        binary = user_items.copy()
        binary.data = np.ones_like(binary.data)
        return binary

    def _fit(self, user_items: sp.csr_matrix) -> None:
        n_items = user_items.shape[1]
        # Below a few thousand items the inverse takes well under a second on one thread
        # and BLAS threads only add contention; above, let BLAS use what it was given
        # (OPENBLAS_NUM_THREADS etc.).
        limits = 1 if n_items < SINGLE_THREAD_ITEMS else None
        with threadpool_limits(limits=limits, user_api="blas"):
            self._solve(self._input(user_items).astype(np.float64))

    def _solve(self, x: sp.csr_matrix) -> None:
        gram = gram_matrix(x)
        gram[np.diag_indices_from(gram)] += self.lam
        # The Gram matrix is symmetric positive definite: Cholesky inverse, in place.
        factor, info = scipy.linalg.lapack.dpotrf(gram, lower=False, overwrite_a=True)
        if info != 0:
            raise SubjectlineError(f"EASE: Gram matrix is not positive definite (info={info})")
        inverse, info = scipy.linalg.lapack.dpotri(factor, lower=False, overwrite_c=True)
        if info != 0:
            raise SubjectlineError(f"EASE: inversion failed (info={info})")
        mirror_upper(inverse)
        inverse /= -np.diag(inverse).copy()  # column j divided by -P_jj, in place
        np.fill_diagonal(inverse, 0.0)
        # LAPACK hands back Fortran order; scoring reads whole rows of B, so store C order
        # (a 4096-user batch x 15k items: 5.9 s in F order, 0.45 s in C order).
        self.weights = np.ascontiguousarray(inverse, dtype=np.float32)

    def score(self, userids: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        scores: np.ndarray = np.asarray(self._input(user_items) @ self.weights, dtype=np.float32)
        return scores


def mirror_upper(square: np.ndarray, block: int = 1024) -> None:
    """Copy the upper triangle onto the lower one in place, a block of columns at a time
    (LAPACK's ``potri`` fills only one triangle; no n x n temporary is made)."""
    n = square.shape[0]
    for start in range(0, n, block):
        stop = min(n, start + block)
        square[start:stop, :start] = square[:start, start:stop].T
        diagonal = square[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        diagonal[lower] = diagonal.T[lower]


def gram_matrix(x: sp.csr_matrix, rows_per_chunk: int = 100_000) -> np.ndarray:
    """Dense ``X^T X`` summed over chunks of users, so no huge sparse product is held."""
    n_items = x.shape[1]
    gram = np.zeros((n_items, n_items), dtype=np.float64)
    for start in range(0, x.shape[0], rows_per_chunk):
        chunk = x[start : start + rows_per_chunk]
        part = (chunk.T @ chunk).tocoo()
        gram[part.row, part.col] += part.data  # a COO from a product has no duplicates
    return gram


MODELS: dict[str, type[Recommender]] = {}


def register_model(cls: type[Recommender]) -> type[Recommender]:
    """Make ``cls`` available by ``cls.name`` to :func:`get_model` and the CLI."""
    MODELS[cls.name] = cls
    return cls


for _cls in (Popularity, ALS, EASE):
    register_model(_cls)


def get_model(name: str, **params: Any) -> Recommender:
    """A new, unfitted model by registry name with the given hyperparameters."""
    try:
        cls = MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise SubjectlineError(f"unknown model {name!r}; known: {known}") from None
    return cls(**params)
