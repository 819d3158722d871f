"""The abstractive backend on a tiny BART built and saved by the test itself: never a download."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from summarizer import ArticleText, Brief, Summarizer, SummarizerConfig
from summarizer.backends.abstractive import AbstractiveBackend
from summarizer.prepare import prepare
from summarizer.sentences import split_sentences
from summarizer.text import read_document
from tests.support.news import SAMPLES
from tests.support.tiny_seq2seq import MAX_POSITIONS, build_tiny_seq2seq, words_only


def tiny_sentences(path: Path) -> list[str]:
    """A sample's sentences in the tiny model's vocabulary, each still a sentence with a full stop."""
    sentences = []
    for sentence in split_sentences(read_document(path.read_text(encoding="utf-8")).body):
        words = words_only(sentence).replace(".", " ").split()
        if len(words) >= 4:
            sentences.append(" ".join(words).capitalize() + ".")
    return sentences


LONG = " ".join(sentence for path in SAMPLES for sentence in tiny_sentences(path))
SHORT = " ".join(tiny_sentences(SAMPLES[0])[:3])


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    return build_tiny_seq2seq(tmp_path_factory.mktemp("tiny-bart"))


@pytest.fixture(scope="module")
def abstractive(model_folder) -> Summarizer:
    return Summarizer(SummarizerConfig(backend="abstractive", model=str(model_folder)))


@pytest.fixture
def generate_calls(abstractive, monkeypatch) -> list[list[str]]:
    """The texts of every generation call of the real model, which still does the work."""
    backend = abstractive.backend
    real_generate = backend._generate
    calls: list[list[str]] = []

    def recording_generate(texts):
        calls.append(list(texts))
        return real_generate(texts)

    monkeypatch.setattr(backend, "_generate", recording_generate)
    return calls


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    """Any attempt to open a connection (a hub download) is recorded and refused."""
    attempts: list[object] = []

    def refuse(sock, address):
        attempts.append(address)
        raise OSError(f"test: no network to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_an_article_gets_an_abstractive_brief(abstractive, generate_calls):
    article = ArticleText(text=SHORT, url="https://news.example/ferry", title="Ferry news")
    [brief] = abstractive.summarize([article])
    assert isinstance(brief, Brief) and brief.backend == "abstractive"
    assert brief.headline == "Ferry news" and brief.url == "https://news.example/ferry"
    assert 1 <= len(brief.points) <= abstractive.config.sentences
    assert all(point.strip() for point in brief.points)
    assert len(brief.headline) + sum(map(len, brief.points)) <= abstractive.config.max_chars
    assert generate_calls == [[SHORT]]  # a short article is one window, generated once


def test_a_long_article_is_cut_into_token_windows_and_still_gets_one_summary(abstractive, generate_calls):
    backend = abstractive.backend
    assert backend.window_tokens == MAX_POSITIONS - 2
    sentences = prepare(ArticleText(text=LONG)).sentences
    windows = backend._windows(sentences)
    assert len(windows) > 1
    assert " ".join(windows) == " ".join(sentences)  # whole sentences, none lost, in order
    for window in windows:
        assert len(backend.tokenizer(window, add_special_tokens=False)["input_ids"]) <= backend.window_tokens

    briefs = abstractive.summarize([ArticleText(text=LONG), ArticleText(text=SHORT)])
    assert len(briefs) == 2 and all(brief.points for brief in briefs)
    assert generate_calls[0] == [*windows, SHORT]  # every window of the batch generated together
    assert len(generate_calls) > 1  # the partial summaries of the long article went round again
    assert all(len(call) < len(windows) for call in generate_calls[1:])


def test_when_the_model_writes_nothing_the_opening_sentences_are_shown_with_a_notice(model_folder):
    backend = AbstractiveBackend(str(model_folder))
    with backend._torch.no_grad():  # a model that ends every summary at once
        backend.model.final_logits_bias[0, backend.tokenizer.eos_token_id] += 1000.0
    [brief] = Summarizer(SummarizerConfig(backend="abstractive", model=str(model_folder)),
                         backend=backend).summarize([ArticleText(text=SHORT)], max_chars=10_000)
    assert brief.points == split_sentences(SHORT)[:3]
    assert "no summary" in brief.notice


def test_device_auto_picks_the_cpu_here(model_folder):
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    backend = AbstractiveBackend(str(model_folder), device="auto")
    assert backend.device == expected
    assert {parameter.device.type for parameter in backend.model.parameters()} == {expected}


@pytest.mark.parametrize("name", ["briefbot-tests/no-such-summarizer", "missing-folder"])
def test_a_model_that_is_not_on_this_machine_is_a_clear_error_not_a_download(monkeypatch, no_network, tmp_path,
                                                                             name):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read once, at import
    model = str(tmp_path / name) if name == "missing-folder" else name
    summarizer = Summarizer(SummarizerConfig(backend="abstractive", model=model))
    with pytest.raises(RuntimeError, match="not available offline") as raised:
        summarizer.summarize([ArticleText(text=SHORT)])
    assert repr(model) in str(raised.value)
    assert no_network == []


def test_the_abstractive_backend_needs_a_model():
    with pytest.raises(ValueError, match="needs a model"):
        Summarizer(SummarizerConfig(backend="abstractive")).summarize([ArticleText(text=SHORT)])


# --- the same through `python -m bot summarize` (typer's runner on the real app, in this process) ---------


def test_the_command_writes_abstractive_briefs_as_json_lines(model_folder, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps({"id": n, "text": text}) for n, text in enumerate([LONG, SHORT])) + "\n")
    result = CliRunner().invoke(app, ["summarize", "--backend", "abstractive", "--model", str(model_folder),
                                      "--jsonl", str(source)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["id"] for record in records] == [0, 1]
    for record in records:
        assert record["points"] and record["summary"] == "\n".join(record["points"])


@pytest.mark.parametrize("arguments, message", [
    (["--model", "briefbot-tests/no-such-summarizer"], "not available offline"),
    ([], "needs a model"),
])
def test_the_command_reports_a_missing_model_and_exits_1(tmp_path, arguments, message):
    source = tmp_path / "article.txt"
    source.write_text(SHORT)
    result = CliRunner().invoke(app, ["summarize", "--backend", "abstractive", *arguments, str(source)])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""
