"""Abstractive briefs from any Hugging Face seq2seq model (BART, PEGASUS, T5...), offline only.

Long articles are cut into windows of whole sentences that fit the model's input; each window is
summarized, and when the joined partial summaries are still longer than one window they are summarized
again. All windows of a batch of articles are generated together, in length-sorted batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from summarizer.backends.base import Selection
from summarizer.prepare import Prepared
from summarizer.sentences import split_sentences

log = logging.getLogger(__name__)

MAX_WINDOWS = 8  # per article: enough for a long feature; an enormous input is cut here
MAX_ROUNDS = 3  # summaries of summaries, at most


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 142
    min_new_tokens: int = 0
    num_beams: int = 4
    no_repeat_ngram_size: int = 3
    length_penalty: float = 2.0


class AbstractiveBackend:
    name = "abstractive"

    def __init__(self, model: str, *, device: str = "auto", batch_size: int = 8,
                 generation: GenerationSettings | None = None, max_window_tokens: int | None = None) -> None:
        try:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:  # not in the default install: PyTorch is large
            raise RuntimeError(f"the abstractive backend needs PyTorch and transformers ({exc.name} is missing): "
                               f"pip install 'briefbot[abstractive]' (docs/summarizers.md)") from exc

        self.device = _pick_device(device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(model, local_files_only=True).to(self.device).eval()
        except OSError as exc:
            raise RuntimeError(f"the summarization model {model!r} is not available offline: {exc}") from exc
        self.batch_size = batch_size
        self.generation = generation or GenerationSettings()
        limits = [self.tokenizer.model_max_length, getattr(self.model.config, "max_position_embeddings", None),
                  max_window_tokens]
        self.window_tokens = min(limit for limit in limits if limit and limit < 1_000_000) - 2  # room for <s> </s>
        positions = getattr(self.model.config, "max_position_embeddings", None)  # the decoder's too (BART)
        self.max_new_tokens = min(self.generation.max_new_tokens, positions - 2) if positions else \
            self.generation.max_new_tokens
        self.prefix = getattr(self.model.config, "prefix", None) or ""  # T5 wants "summarize: "
        self._torch = torch

    def select(self, documents: list[Prepared], count: int, language: str | None = None) -> list[Selection]:
        texts = self._summarize_texts([self._windows(document.sentences) for document in documents])
        selections = []
        for document, text in zip(documents, texts):
            points = split_sentences(text)[:count]
            if points:
                selections.append(Selection(points=points, salience=list(range(len(points)))))
            else:  # the model wrote nothing usable: say so, and fall back to the opening sentences
                lead = document.sentences[:count]
                selections.append(Selection(points=lead, salience=list(range(len(lead))),
                                            notice="The model wrote no summary; these are the opening sentences."))
        return selections

    def _summarize_texts(self, windows_per_doc: list[list[str]]) -> list[str]:
        """One summary per document. A document of several windows goes round again with its joined
        partial summaries, until they make a single window (at most MAX_ROUNDS rounds)."""
        summaries = [""] * len(windows_per_doc)
        pending = dict(enumerate(windows_per_doc))
        for round_number in range(1, MAX_ROUNDS + 1):
            outputs = iter(self._generate([window for windows in pending.values() for window in windows]))
            still_pending = {}
            for index, windows in pending.items():
                joined = " ".join(part for part in (next(outputs) for _ in windows) if part)
                if len(windows) > 1 and round_number < MAX_ROUNDS and joined:
                    still_pending[index] = self._windows(split_sentences(joined))
                else:
                    summaries[index] = joined
            pending = still_pending
            if not pending:
                break
        return summaries

    def _windows(self, sentences: list[str]) -> list[str]:
        """Whole sentences packed into windows of at most `window_tokens` tokens (a longer sentence is cut)."""
        budget = self.window_tokens - self._token_count(self.prefix)
        sentences = _leading(sentences, MAX_WINDOWS * budget * 8)  # never tokenize far past what is used
        if not sentences:
            return []
        windows: list[str] = []
        current: list[str] = []
        used = 0
        token_ids = self.tokenizer(sentences, add_special_tokens=False, verbose=False)["input_ids"]
        for sentence, ids in zip(sentences, token_ids):
            if len(ids) > budget:
                sentence, ids = self.tokenizer.decode(ids[:budget]), ids[:budget]
            if current and used + len(ids) > budget:
                windows.append(" ".join(current))
                current, used = [], 0
            current.append(sentence)
            used += len(ids)
        if current:
            windows.append(" ".join(current))
        return windows[:MAX_WINDOWS]

    def _generate(self, texts: list[str]) -> list[str]:
        outputs = [""] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        settings = self.generation
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.tokenizer([self.prefix + texts[i] for i in rows], padding=True, truncation=True,
                                   max_length=self.window_tokens + 2, return_tensors="pt").to(self.device)
            with self._torch.inference_mode():
                generated = self.model.generate(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    max_new_tokens=self.max_new_tokens, min_new_tokens=settings.min_new_tokens,
                    num_beams=settings.num_beams, no_repeat_ngram_size=settings.no_repeat_ngram_size,
                    length_penalty=settings.length_penalty, early_stopping=True)
            for row, text in zip(rows, self.tokenizer.batch_decode(generated, skip_special_tokens=True)):
                outputs[row] = " ".join(text.split())
        return outputs

    def _token_count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]) if text else 0


def _leading(sentences: list[str], max_chars: int) -> list[str]:
    total = 0
    for count, sentence in enumerate(sentences):
        total += len(sentence) + 1
        if total > max_chars:
            return sentences[:count + 1]
    return sentences


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
