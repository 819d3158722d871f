"""An article made ready for a backend: clean sentences, known title and date, and any notice."""

from __future__ import annotations

from dataclasses import dataclass

from summarizer.sentences import split_sentences
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
    sentences = split_sentences(document.body)
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
    return Prepared(article=article, sentences=sentences, title=_clean_title(article.title or document.title),
                    published=article.published or document.published, notice=" ".join(notices) or None,
                    too_short=too_short)


def _clean_title(title: str | None) -> str | None:
    title = " ".join((title or "").split())
    return title or None
