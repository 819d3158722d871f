"""Reading input (plain text, HTML, the sample format) and splitting news text into sentences."""

from __future__ import annotations

from datetime import date

import pytest

from summarizer.sentences import ends_like_sentence, split_sentences
from summarizer.text import MAX_INPUT_CHARS, looks_english, read_document
from tests.support.news import shared_sample

SHARED_SAMPLE = shared_sample()


@pytest.mark.parametrize("text, expected", [
    ("He met Mr. Smith in the U.S. on Monday. Then he left.",
     ["He met Mr. Smith in the U.S. on Monday.", "Then he left."]),
    ("She lives at No. 10 Downing Street. It is big.", ["She lives at No. 10 Downing Street.", "It is big."]),
    ("They watched Dr. Who last night. It was fun.", ["They watched Dr. Who last night.", "It was fun."]),
    ('"Why?" she asked. "Because," he said.', ['"Why?" she asked.', '"Because," he said.']),
    ("Wait... what happened? Nobody knows.", ["Wait... what happened?", "Nobody knows."]),
    ("Sen. John Doe spoke. Gov. Roe agreed.", ["Sen. John Doe spoke.", "Gov. Roe agreed."]),
    ("The answer was no. Then he left.", ["The answer was no.", "Then he left."]),
    ("A series of pictures shows models camouflaged in woodland In many of the pictures, the paint hides them.",
     ["A series of pictures shows models camouflaged in woodland", "In many of the pictures, the paint hides them."]),
    ("It is impossible to work out where they are The artist is a body painter.",
     ["It is impossible to work out where they are", "The artist is a body painter."]),
    ("First paragraph without a stop\nSecond paragraph.", ["First paragraph without a stop", "Second paragraph."]),
])
def test_splitter_on_hard_news_cases(text, expected):
    assert split_sentences(text) == expected


def test_splitter_keeps_titles_of_works_and_place_names_together():
    assert split_sentences("He starred in the film In Bruges last year. Then he went to The Hague.") == [
        "He starred in the film In Bruges last year.", "Then he went to The Hague."]


def test_splitter_cuts_a_run_on_sentence_at_clause_or_word_boundaries():
    run_on = ", ".join(f"clause number {i} goes on" for i in range(100))
    pieces = split_sentences(run_on)
    assert len(pieces) > 1
    assert all(len(piece) <= 600 for piece in pieces)
    assert " ".join(pieces).replace(" ,", ",") == run_on


def test_caption_fragments_are_recognisable():
    assert not ends_like_sentence("A series of pictures shows models camouflaged in woodland")
    assert ends_like_sentence('"It was zero," he said.')


@pytest.mark.parametrize("raw, body", [
    ("By JOHN SMITH PUBLISHED: 12:00 EST, 1 May 2014 | UPDATED: 13:00 EST, 1 May 2014 The cat sat. It purred.",
     "The cat sat. It purred."),
    ("By . Daily Mail Reporter . PUBLISHED: . 12:01 EST, 2 May 2014 . | . UPDATED: . 13:22 EST, 2 May 2014 . "
     "The dog ran.", "The dog ran."),
    ("(CNN)Debra Milke spent 22 years on death row.", "Debra Milke spent 22 years on death row."),
    ("Washington (CNN) -- The Senate voted on Monday.", "The Senate voted on Monday."),
    ("Apple (AAPL) shares fell on Monday.", "Apple (AAPL) shares fell on Monday."),
    ("Scroll down for video The dog barked loudly. Neighbours complained.",
     "The dog barked loudly. Neighbours complained."),
])
def test_page_furniture_is_stripped(raw, body):
    assert read_document(raw).body == body


def test_the_shared_sample_format_gives_date_and_text():
    document = read_document(SHARED_SAMPLE.read_text(encoding="utf-8"))
    assert document.published == date(2024, 11, 1)
    assert document.body.startswith("Ukrainian President Volodymyr Zelenskyy criticized Western allies")
    assert "date 2024" not in document.body
    sentences = split_sentences(document.body)
    assert len(sentences) > 8
    assert any(sentence.startswith("The U.S. must have been listening") for sentence in sentences)


def test_html_main_text_and_title_are_extracted():
    paragraphs = "".join(f"<p>The council approved plan number {i} for the harbour on Tuesday evening.</p>"
                         for i in range(6))
    html = (f"<html><head><title>Harbour plan approved</title><script>var tracking = 1;</script></head>"
            f"<body><nav><a href='/'>Home</a> | <a href='/news'>News</a></nav><article><h1>Harbour plan approved"
            f"</h1>{paragraphs}</article><footer>Copyright 2025 Example News. All rights reserved.</footer>"
            f"</body></html>")
    document = read_document(html)
    assert document.title == "Harbour plan approved"
    assert "The council approved plan number 0 for the harbour" in document.body
    assert "tracking" not in document.body and "<p>" not in document.body
    assert "Copyright" not in document.body


def test_html_that_trafilatura_finds_no_article_in_falls_back_to_lxml_text():
    html = ("<html><body><table><tr><td>The council met on Monday and voted to close the old bridge.</td></tr>"
            "<tr><td>Repairs start in May.</td></tr></table></body></html>")
    document = read_document(html)
    assert document.body == "The council met on Monday and voted to close the old bridge.\nRepairs start in May."


def test_enormous_input_is_cut_with_a_flag():
    document = read_document("The council met again today. " * 100_000)  # about 2.9 MB
    assert document.truncated
    assert len(document.body) <= MAX_INPUT_CHARS


def test_english_check():
    assert looks_english("The Senate voted on Thursday to approve a bill that would change the rules.")
    assert not looks_english("Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen, das die Regeln "
                             "für die Einwanderung von Fachkräften vereinfachen soll.")
    assert not looks_english("东京电力公司周四表示，将开始向海洋排放经过处理的放射性水。")
    assert not looks_english("Москва, 12 марта. Правительство утвердило новый план развития транспорта на пять лет.")
