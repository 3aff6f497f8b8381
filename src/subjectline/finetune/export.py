"""Merged LoRA weights back into a GGUF file that the ``local`` backend runs.

The base file is copied field by field and tensor by tensor (as gguf-py's
``gguf_new_metadata`` does); only the tensors LoRA changed are replaced, stored as Q8_0
so the small learned deltas survive quantization (re-quantizing to the base's Q4_1
would round most of them away).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

GGUF_NAMES = {
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_HF_NAME = re.compile(r"(?:^|\.)layers\.(\d+)\.(self_attn\.\w+|mlp\.\w+)\.weight$")


def gguf_name(hf_name: str) -> str | None:
    """``model.layers.3.mlp.up_proj.weight`` -> ``blk.3.ffn_up.weight`` (None otherwise)."""
    match = _HF_NAME.search(hf_name)
    if not match or match.group(2) not in GGUF_NAMES:
        return None
    return f"blk.{match.group(1)}.{GGUF_NAMES[match.group(2)]}.weight"


def changed_weights(merged: Any, layers: range) -> dict[str, np.ndarray]:
    """The merged model's LoRA-target weights of ``layers`` by GGUF tensor name."""
    out: dict[str, np.ndarray] = {}
    for name, tensor in merged.state_dict().items():
        target = gguf_name(name)
        if target is None or int(target.split(".")[1]) not in layers:
            continue
        out[target] = tensor.detach().float().cpu().numpy()
    return out


def write_gguf(
    base: Path, out: Path, replaced: Mapping[str, np.ndarray], name: str, description: str
) -> Path:
    """Copy ``base`` to ``out`` with ``replaced`` tensors (float32 arrays) as Q8_0."""
    import gguf

    reader = gguf.GGUFReader(str(base))
    arch_field = reader.fields[gguf.Keys.General.ARCHITECTURE]
    arch = str(bytes(arch_field.parts[arch_field.data[0]]), encoding="utf-8")
    missing = set(replaced) - {t.name for t in reader.tensors}
    if missing:
        raise ValueError(f"{base} has no tensor(s) {', '.join(sorted(missing))}")
    tmp = out.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    overrides = {gguf.Keys.General.NAME: name, gguf.Keys.General.DESCRIPTION: description}
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        if field.name in overrides:
            continue
        val_type = field.types[0]
        sub_type = field.types[-1] if val_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), val_type, sub_type=sub_type)
    for key, value in overrides.items():
        writer.add_string(key, value)
    data: list[np.ndarray] = []
    for tensor in reader.tensors:
        if tensor.name in replaced:
            array = np.ascontiguousarray(replaced[tensor.name], dtype=np.float32)
            expected = tuple(int(d) for d in reversed(tensor.shape.tolist()))
            if array.shape != expected:
                raise ValueError(f"{tensor.name}: shape {array.shape}, base has {expected}")
            quantized = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor_info(
                tensor.name,
                quantized.shape,
                quantized.dtype,
                quantized.nbytes,
                gguf.GGMLQuantizationType.Q8_0,
            )
            data.append(quantized)
        else:
            writer.add_tensor_info(
                tensor.name,
                tensor.data.shape,
                tensor.data.dtype,
                tensor.data.nbytes,
                tensor.tensor_type,
            )
            data.append(tensor.data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for array in data:
        writer.write_tensor_data(array, tensor_endianess=reader.endianess)
    writer.close()
    tmp.replace(out)
    return out


def read_tensor(path: Path, name: str) -> np.ndarray:
    """A tensor of a GGUF file de-quantized to float32 (for checks and tests)."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    for tensor in reader.tensors:
        if tensor.name == name:
            return np.asarray(gguf.quants.dequantize(tensor.data, tensor.tensor_type))
    raise KeyError(name)
