"""Fine-tuned generators, versioned in the workspace: ``models/<id>/`` holds the GGUF
file the ``local`` backend runs, the LoRA adapter, the training data, a manifest and a
model card."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subjectline.errors import SubjectlineError
from subjectline.finetune.records import FinetuneSettings
from subjectline.generate import PromptSettings, TitleBackend, make_backend
from subjectline.workspace import Workspace

MODELS_DIR = "models"
MANIFEST = "manifest.json"
CARD = "MODEL_CARD.md"


@dataclass(frozen=True)
class FinetunedModel:
    id: str
    path: Path  # the model's directory

    @property
    def gguf(self) -> Path:
        return self.path / f"{self.id}.gguf"

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    def update_manifest(self, **fields: Any) -> None:
        data = self.manifest | fields
        tmp = self.path / (MANIFEST + ".partial")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        tmp.replace(self.path / MANIFEST)

    @property
    def settings(self) -> FinetuneSettings:
        stored = self.manifest.get("settings", {})
        unknown = sorted(set(stored) - {f.name for f in dataclasses.fields(FinetuneSettings)})
        if unknown:
            raise SubjectlineError(
                f"{self.path / MANIFEST}: settings {', '.join(unknown)} are not known to this "
                "version of subjectline; retrain with `subjectline finetune run`"
            )
        return FinetuneSettings(**stored)

    @property
    def prompt_version(self) -> str:
        return str(self.manifest["settings"]["prompt_version"])


def models_root(workspace: Workspace) -> Path:
    return workspace.root / MODELS_DIR


def list_models(workspace: Workspace) -> list[FinetunedModel]:
    """Complete models (those with a manifest and a GGUF file), oldest first."""
    root = models_root(workspace)
    if not root.is_dir():
        return []
    found = [
        FinetunedModel(p.name, p)
        for p in root.iterdir()
        if (p / MANIFEST).is_file() and (p / f"{p.name}.gguf").is_file()
    ]
    return sorted(found, key=lambda m: (str(m.manifest.get("created_at", "")), m.id))


def find_model(workspace: Workspace, ref: str = "latest") -> FinetunedModel:
    models = list_models(workspace)
    if not models:
        raise SubjectlineError(
            f"no fine-tuned model in {models_root(workspace)}; run `subjectline finetune run`"
        )
    if ref == "latest":
        return models[-1]
    for model in models:
        if model.id == ref:
            return model
    known = ", ".join(m.id for m in models)
    raise SubjectlineError(
        f"no fine-tuned model {ref!r} in {models_root(workspace)}; known: {known}"
    )


# One llama.cpp slot: with several, batched decoding changes the sampled tokens from run
# to run (two runs of 8 themes: 0 identical with 4 slots, 7 with one), and on 2 cores 4
# slots were only ~15% faster. Training data and evaluations should repeat.
REPEATABLE_SLOTS = 1


def generator(
    model: FinetunedModel | None, base_prompt_version: str = "v1", **settings: Any
) -> tuple[TitleBackend, PromptSettings]:
    """The backend and prompt settings of a generator: the base model (``None``) with
    its few-shot prompt, or a fine-tuned model with the prompt it was trained on. Both
    decode on one slot so that their samples repeat."""
    if model is None:
        backend = make_backend("local", n_parallel=REPEATABLE_SLOTS)
        return backend, PromptSettings(prompt_version=base_prompt_version, **settings)
    backend = make_backend("local", model_path=model.gguf, n_parallel=REPEATABLE_SLOTS)
    return backend, PromptSettings(prompt_version=model.prompt_version, **settings)
