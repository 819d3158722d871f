"""An article made ready for a backend: clean sentences, known title and date, and any notice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer.sentences import ends_like_sentence, split_sentences
from summarizer.text import MAX_INPUT_CHARS, looks_english, read_document, word_count
from summarizer.types import ArticleText, SummarizerError

MIN_WORDS = 15  # below this there is nothing to condense: the text is shown as it is


@dataclass(frozen=True)
class Prepared:
    article: ArticleText
    sentences: list[str]
    title: str | None
    published: object
    notice: str | None = None
    too_short: bool = False  # fewer than MIN_WORDS words: shown as it is, not summarized


def prepare(article: ArticleText) -> Prepared:
    """Reads and splits one article; raises SummarizerError when there is nothing to summarize."""
    if not isinstance(article.text, str):
        raise SummarizerError("The article text must be a string.")
    document = read_document(article.text)
    title = _clean_title(article.title or document.title)
    sentences = _without_title(split_sentences(document.body), title)
    if not any(word_count(sentence) for sentence in sentences):
        raise SummarizerError("There is no text to summarize.")
    notices = []
    if document.truncated:
        notices.append(f"The text is very long; only its first {MAX_INPUT_CHARS:,} characters were read.")
    if not looks_english(document.body):
        notices.append("The text does not look like English; this summary may be poor.")
    too_short = word_count(document.body) < MIN_WORDS
    if too_short:
        notices.append("The text is too short to summarize; it is shown as it is.")
    return Prepared(article=article, sentences=sentences, title=title,
                    published=article.published or document.published, notice=" ".join(notices) or None,
                    too_short=too_short)


def _without_title(sentences: list[str], title: str | None) -> list[str]:
    """The sentences without an opening heading that repeats the title (a page's <h1>, a feed item whose
    body starts with its title): the title is the brief's headline already, not one of its points."""
    if not title or len(sentences) < 2:
        return sentences
    first, heading = _plain(sentences[0]), _plain(title)
    if first and (first == heading or (heading.startswith(first) and not ends_like_sentence(sentences[0]))):
        return sentences[1:]
    return sentences


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _clean_title(title: str | None) -> str | None:
    title = " ".join((title or "").split())
    return title or None
