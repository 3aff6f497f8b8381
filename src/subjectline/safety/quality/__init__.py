"""The quality family of the gate: would a careful marketer send this title as it is?

Rules where a rule is exact (:mod:`.rules`), a learned judge where none is
(:mod:`.judge`). ``judge_score(title, ctx)`` is the judge's probability that the title
is sendable, also an objective of the reranker and a term of the fine-tuning reward.
"""

from subjectline.safety.quality import rules
from subjectline.safety.quality.judge import judge_score, judge_scores, load_model

__all__ = ["judge_score", "judge_scores", "load_model", "rules"]
