"""The torch-free MiniLM encoder against the reference and against the PyTorch-exported int8 model it replaces.

    python -m bench.encoder --data ../shared/bench/news_dev.jsonl [--limit N]

Embeds the opening sentences of every article (as the extractive backend does) with:
- ours: the ONNX graph built from the safetensors weights (summarizer/bert_graph.py), int8, onnxruntime;
- ours, float32: the same graph unquantized;
- torch-exported int8: the previous route (torch.onnx.export, the same quantizer), the speed baseline;
- reference: transformers' BertModel on PyTorch, float32, mean-pooled.
Prints the cosine of each to the reference over all the sentences, and the sentences per second (after
loading; the best of several passes, the encoders taking turns). Needs the dev extra (torch, transformers).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from summarizer.encoder import SentenceEncoder, bundled_model_dir
from summarizer.prepare import prepare
from summarizer.types import ArticleText

HEAD = 25  # the extractive backend embeds about this many opening sentences


def dev_sentences(path: Path, limit: int | None) -> list[str]:
    sentences = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                break
            sentences += prepare(ArticleText(text=json.loads(line)["text"])).sentences[:HEAD]
    return sentences


def reference_vectors(sentences: list[str], model_dir: Path) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(sentences), 64):
            batch = tokenizer(sentences[start:start + 64], padding=True, truncation=True, max_length=128,
                              return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"][..., None].float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    return np.vstack(out)


def torch_exported_int8(model_dir: Path, target: Path) -> Path:
    """The model as the project made it before: torch.onnx.export, then the same dynamic int8 quantizer."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager").eval()

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    names = ("input_ids", "attention_mask", "token_type_ids")
    sample = AutoTokenizer.from_pretrained(model_dir)(["An example sentence.", "Another one"], padding=True,
                                                        return_tensors="pt")
    float_path = target.with_suffix(".float.onnx")
    with torch.no_grad():
        torch.onnx.export(HiddenStates(), tuple(sample[name] for name in names), str(float_path),
                          input_names=list(names), output_names=["last_hidden_state"],
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*names, "last_hidden_state")},
                          opset_version=17, dynamo=False)
    quantize_dynamic(str(float_path), str(target), weight_type=QuantType.QInt8, per_channel=True)
    return target


def best_speeds(encoders: dict[str, SentenceEncoder], sentences: list[str], rounds: int) -> dict[str, float]:
    """Sentences per second of each encoder, the best of `rounds` passes, the encoders taking turns (in
    alternating order) so that a busy machine slows them alike."""
    best = dict.fromkeys(encoders, float("inf"))
    names = list(encoders)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            start = time.perf_counter()
            encoders[name].encode(sentences)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(sentences) / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="articles (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per encoder")
    parser.add_argument("--speed-sentences", type=int, default=1000, help="sentences per timed pass")
    args = parser.parse_args()
    sentences = dev_sentences(args.data, args.limit)
    model_dir = bundled_model_dir()
    reference = reference_vectors(sentences, model_dir)
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        encoders = {"ours (built graph, int8)": SentenceEncoder(cache_dir=Path(cache))}
        build_s = time.perf_counter() - start
        encoders["ours, float32"] = SentenceEncoder(precision="float32")
        import onnxruntime

        legacy = SentenceEncoder(cache_dir=Path(cache))  # the same tokenizer and pooling, the old graph
        legacy._session = onnxruntime.InferenceSession(
            str(torch_exported_int8(model_dir, Path(cache) / "torch-exported-int8.onnx")),
            encoders["ours (built graph, int8)"]._session.get_session_options(), providers=["CPUExecutionProvider"])
        encoders["torch-exported int8 (before)"] = legacy
        vectors = {name: encoder.encode(sentences) for name, encoder in encoders.items()}
        speeds = best_speeds(encoders, sentences[:args.speed_sentences], args.rounds)
    print(f"{len(sentences)} sentences from {args.data.name}; int8 model built and quantized in {build_s:.1f} s")
    print(f"speed: best of {args.rounds} interleaved passes over {min(len(sentences), args.speed_sentences)} sentences")
    print(f"{'encoder':32} {'mean cos':>9} {'min cos':>8} {'sent/s':>8}")
    for name, encoded in vectors.items():
        cosine = np.sum(encoded * reference, axis=1)
        print(f"{name:32} {cosine.mean():9.4f} {cosine.min():8.4f} {speeds[name]:8.0f}")
    ours, before = speeds["ours (built graph, int8)"], speeds["torch-exported int8 (before)"]
    print(f"speed, ours / torch-exported int8: {ours / before:.2f}")

if __name__ == "__main__":
    main()
