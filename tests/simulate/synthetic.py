"""A synthetic logged-bandit problem whose true policy value is known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from subjectline.simulate.feedback import LoggedFeedback


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class SyntheticBandit:
    """q(x, a, k) = sigmoid(x . theta_a + b_a) * examination_k; pi_b and pi_e are softmax
    policies of the context (per position, independently), pi_e sharper than pi_b."""

    n_actions: int = 5
    dim: int = 3
    len_list: int = 1
    problem_seed: int = 42

    def _params(self) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(self.problem_seed)
        theta = rng.normal(scale=0.8, size=(self.dim, self.n_actions))
        bias = rng.normal(loc=-1.5, scale=0.5, size=self.n_actions)
        w_b = rng.normal(scale=0.3, size=(self.dim, self.n_actions))
        w_e = rng.normal(scale=1.0, size=(self.dim, self.n_actions))
        examination = 1.0 / (1.0 + np.arange(self.len_list))
        return theta, bias, w_b, w_e, examination

    def q(self, context: np.ndarray) -> np.ndarray:
        """True expected reward, (n, n_actions, len_list)."""
        theta, bias, _, _, examination = self._params()
        base = 1.0 / (1.0 + np.exp(-(context @ theta + bias)))
        return base[:, :, None] * examination[None, None, :]

    def pi_b(self, context: np.ndarray) -> np.ndarray:
        _, _, w_b, _, _ = self._params()
        return np.repeat(_softmax(context @ w_b)[:, :, None], self.len_list, axis=2)

    def pi_e(self, context: np.ndarray) -> np.ndarray:
        _, _, _, w_e, _ = self._params()
        return np.repeat(_softmax(context @ w_e)[:, :, None], self.len_list, axis=2)

    def contexts(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(size=(n, self.dim))

    def true_value(self, n_mc: int = 1_000_000) -> float:
        """V(pi_e) = E_x E_k[ sum_a pi_e(a | x, k) q(x, a, k) ] with k uniform over slots."""
        context = self.contexts(n_mc, np.random.default_rng(10**6 + self.problem_seed))
        return float((self.pi_e(context) * self.q(context)).sum(axis=1).mean())

    def sample(
        self, n: int, seed: int, noisy: bool = True
    ) -> tuple[LoggedFeedback, np.ndarray, np.ndarray]:
        """(log of pi_b, pi_e's action_dist, true q) for n rounds; position uniform."""
        rng = np.random.default_rng(seed)
        context = self.contexts(n, rng)
        position = rng.integers(0, self.len_list, size=n)
        rows = np.arange(n)
        pi_b = self.pi_b(context)[rows, :, position]
        action = (pi_b.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        q = self.q(context)
        mean = q[rows, action, position]
        reward = (rng.random(n) < mean).astype(float) if noisy else mean
        feedback = LoggedFeedback(
            n_rounds=n,
            n_actions=self.n_actions,
            context=context,
            action=action,
            reward=reward,
            pscore=pi_b[rows, action],
            position=position if self.len_list > 1 else None,
        )
        return feedback, self.pi_e(context), q
