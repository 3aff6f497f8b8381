"""The shipped gate (rules and judge) on the judged titles of themes it was not trained on."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from subjectline.safety import check_title
from subjectline.safety.cases import read_cases
from subjectline.safety.quality.train import HELDOUT_FILE, context_of

HELDOUT = Path(str(resources.files("subjectline.safety.quality") / HELDOUT_FILE))
# Measured when the judge was trained: 85.4% of unsendable titles rejected, 8.6% of
# sendable ones (docs/quality.md). The floors leave room for a retrain, not for a
# judge that stops telling sense from nonsense.
MIN_REJECT_RECALL = 0.80
MAX_SEND_FALSE_REJECT = 0.12


def test_heldout_themes_meet_the_gate_floors() -> None:
    cases = list(read_cases(HELDOUT))
    verdicts = [(c.raw["label"], check_title(c.title, context_of(c)).ok) for c in cases]
    rejects = [ok for label, ok in verdicts if label == "reject"]
    sends = [ok for label, ok in verdicts if label == "send"]
    assert len(rejects) >= 200 and len(sends) >= 100
    recall = rejects.count(False) / len(rejects)
    false_reject = sends.count(False) / len(sends)
    assert recall >= MIN_REJECT_RECALL, f"rejected {recall:.1%} of unsendable titles"
    assert false_reject <= MAX_SEND_FALSE_REJECT, f"rejected {false_reject:.1%} of sendable"
