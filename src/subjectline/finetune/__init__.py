"""Fine-tuning stage: the title generator learns from the multi-objective reward.

>>> model = run_round(FinetuneSettings(), Workspace(".subjectline"))
>>> payload = evaluate(model)  # base vs fine-tuned on held-out themes
"""

from subjectline.finetune.evaluate import evaluate
from subjectline.finetune.models import FinetunedModel, find_model, generator, list_models
from subjectline.finetune.records import FinetuneSettings
from subjectline.finetune.run import run_round

__all__ = [
    "FinetuneSettings",
    "FinetunedModel",
    "evaluate",
    "find_model",
    "generator",
    "list_models",
    "run_round",
]
