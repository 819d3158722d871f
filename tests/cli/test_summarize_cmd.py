"""`python -m bot summarize`: a printed brief, JSON lines in and out, standard input, and its errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from summarizer import ArticleText, get_summarizer
from summarizer.sentences import split_sentences
from summarizer.text import read_document
from tests.support.news import SAMPLES, shared_sample

ROOT = Path(__file__).resolve().parents[2]
SHARED_SAMPLE = shared_sample()
FERRY, LIBRARY, HEAT, RESCUE = (next(path for path in SAMPLES if word in path.name)
                                for word in ("ferry", "library", "heat", "rescue"))
UNBUDGETED = 10**9


def sentences_of(text: str) -> list[str]:
    return split_sentences(read_document(text).body)


def flat(panel_output: str) -> str:
    """A printed brief without its box and line wrapping, for looking up whole sentences."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", panel_output).split())


def invoke(*arguments: str, stdin: str | None = None):
    return CliRunner().invoke(app, ["summarize", *arguments], input=stdin)


def run_module(*arguments: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "summarize", *arguments], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- JSON lines --------------------------------------------------------------------------------------------


def test_jsonl_gives_one_record_per_input_and_an_error_record_for_each_bad_line(tmp_path):
    articles = {"ferry": ArticleText(text=FERRY.read_text(encoding="utf-8")),
                7: ArticleText(text=HEAT.read_text(encoding="utf-8"), title="Schools open early in the heat",
                               url="https://news.example/heat"),
                "rescue": ArticleText(text=RESCUE.read_text(encoding="utf-8"))}
    source = write_lines(tmp_path / "in.jsonl", [
        json.dumps({"id": "ferry", "text": articles["ferry"].text}),
        json.dumps({"id": 7, "text": articles[7].text, "title": articles[7].title, "url": articles[7].url}),
        "",  # blank lines are skipped
        "this is not JSON",
        json.dumps({"id": "no-text", "body": "The text is under the wrong key."}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "rescue", "text": articles["rescue"].text}),
    ])

    result = invoke("--jsonl", str(source))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["id"] for record in records] == ["ferry", 7, None, "no-text", "empty", None, "rescue"]

    assert records[2]["line"] == 4 and records[2]["error"].startswith("not JSON")
    assert records[3] == {"id": "no-text", "line": 5, "error": "no text field"}
    assert records[4] == {"id": "empty", "error": "There is no text to summarize."}
    assert records[5] == {"id": None, "line": 7, "error": "no text field"}

    # The same briefs as the library gives, without a length budget.
    expected = get_summarizer().summarize(list(articles.values()), max_chars=UNBUDGETED)
    for record, brief in zip([records[0], records[1], records[6]], expected):
        assert set(record) == {"id", "headline", "points", "summary"}
        assert record["headline"] == brief.headline and record["points"] == brief.points
        assert record["summary"] == "\n".join(record["points"])
        assert len(record["points"]) == 3
    assert records[1]["headline"] == "Schools open early in the heat"


def test_jsonl_records_carry_a_notice(tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": 1, "text": "Storm closes the harbour road."})])
    result = invoke("--jsonl", str(source))
    assert result.exit_code == 0, result.output
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["points"] == ["Storm closes the harbour road."] and "too short" in record["notice"]


def test_lead_backend_with_two_sentences_gives_exactly_the_first_two(tmp_path):
    texts = [path.read_text(encoding="utf-8") for path in (FERRY, LIBRARY)]
    source = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": n, "text": text}) for n, text in enumerate(texts)])
    result = invoke("--backend", "lead", "--sentences", "2", "--jsonl", str(source))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["points"] for record in records] == [sentences_of(text)[:2] for text in texts]


def test_lead_backend_prints_the_first_two_sentences(tmp_path):
    first, second, third = sentences_of(FERRY.read_text(encoding="utf-8"))[:3]
    result = invoke("--backend", "lead", "--sentences", "2", str(FERRY))
    assert result.exit_code == 0, result.output
    printed = flat(result.stdout)
    assert f"• {first}" in printed and f"• {second}" in printed
    assert third not in printed
    assert printed.count("•") == 2
    assert "lead" in printed and "2025-03-04" in printed


# --- standard input ----------------------------------------------------------------------------------------


def test_a_dash_reads_the_article_from_standard_input():
    text = LIBRARY.read_text(encoding="utf-8")
    result = run_module("--backend", "lead", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    printed = flat(result.stdout)
    assert all(f"• {sentence}" in printed for sentence in sentences_of(text)[:3])
    assert "2025-05-19" in printed


def test_jsonl_from_standard_input():
    lines = [json.dumps({"id": n, "text": path.read_text(encoding="utf-8")}) for n, path in enumerate(SAMPLES)]
    result = run_module("--backend", "lead", "--jsonl", "-", stdin="\n".join(lines) + "\nnot JSON\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["id"] for record in records] == [*range(len(SAMPLES)), None]
    assert records[0]["points"] == sentences_of(SAMPLES[0].read_text(encoding="utf-8"))[:3]
    assert "error" in records[-1]


# --- the default backend as a process, offline ---------------------------------------------------------------


def test_the_default_backend_prints_a_brief_with_the_hub_offline(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = run_module(str(FERRY), env=env)
    assert result.returncode == 0, result.stderr
    [brief] = get_summarizer().summarize([ArticleText(text=FERRY.read_text(encoding="utf-8"))])
    printed = flat(result.stdout)
    assert brief.headline in printed
    assert all(f"• {point}" in printed for point in brief.points)
    assert "extractive" in printed and "2025-03-04" in printed
    assert "Traceback" not in result.stderr


def test_the_shared_sample_prints_its_date_and_no_date_line_point():
    if not SHARED_SAMPLE.is_file():
        pytest.skip(f"the shared sample {SHARED_SAMPLE} is not on this machine")
    result = invoke(str(SHARED_SAMPLE))
    assert result.exit_code == 0, result.output
    printed = flat(result.stdout)
    assert "2024-11-01" in printed
    assert "date 2024" not in printed
    assert "• Ukrainian President Volodymyr Zelenskyy criticized Western allies" in printed  # the text's lead


# --- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_jsonl", [False, True], ids=["text", "jsonl"])
def test_a_missing_file_is_exit_code_1_with_one_clear_line(tmp_path, as_jsonl):
    missing = tmp_path / ("a-long-name-for-an-article-that-is-not-there-" * 3 + ".txt")  # wider than 80 columns
    result = run_module(*(["--jsonl"] if as_jsonl else []), str(missing))
    assert result.returncode == 1
    assert result.stderr == f"No such file: {missing}\n"  # whole, and only once
    assert result.stdout == ""


@pytest.mark.parametrize("content", ["", "   \n\n  "])
def test_an_empty_file_cannot_be_summarized(tmp_path, content):
    source = tmp_path / "empty.txt"
    source.write_text(content)
    result = invoke(str(source))
    assert result.exit_code == 1
    assert result.stderr == "Cannot summarize: There is no text to summarize.\n"
    assert result.stdout == ""


def test_a_short_text_is_printed_with_its_notice(tmp_path):
    source = tmp_path / "short.txt"
    source.write_text("Storm closes the harbour road.")
    result = invoke(str(source))
    assert result.exit_code == 0, result.output
    printed = flat(result.stdout)
    assert "• Storm closes the harbour road." in printed and "too short to summarize" in printed


@pytest.mark.parametrize("arguments, code, message", [
    (["--sentences", "0"], 2, "Invalid value for '--sentences'"),
    (["--sentences", "11"], 2, "Invalid value for '--sentences'"),
    (["--backend", "magic"], 1, "Invalid --backend: Input should be 'extractive', 'abstractive', 'lead' or 'llm'"),
])
def test_invalid_options_are_refused_with_a_clear_message(arguments, code, message):
    result = invoke(*arguments, str(FERRY))
    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""
