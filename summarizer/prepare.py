"""An article made ready for a backend: clean sentences, known title and date, and any notice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer.headline import clean_title
from summarizer.sentences import ends_like_sentence, is_whole_sentence, split_sentences
from summarizer.text import MAX_INPUT_CHARS, language_of, read_document, word_count
from summarizer.types import ArticleText, SummarizerError

MIN_WORDS = 15  # below this there is nothing to condense: the text is shown as it is
# A dateline opening a paragraph: a place in capitals, then a dash ("SOUTHWEST MIAMI-DADE, FLA. — ...").
_DATELINE = re.compile(r"^(?=[^a-zß-ÿ]*?[A-ZÀ-ÖØ-Þ]{4})[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ .,'’/()-]{2,60}?\s*[–—-]{1,2}\s+(?=\S)",
                       re.MULTILINE)


@dataclass(frozen=True)
class Prepared:
    article: ArticleText
    sentences: list[str]
    title: str | None
    published: object
    notice: str | None = None
    too_short: bool = False  # fewer than MIN_WORDS words: shown as it is, not summarized
    language: str = "und"  # ISO 639-1 code of the body, "und" when too short to tell


def prepare(article: ArticleText) -> Prepared:
    """Reads and splits one article; raises SummarizerError when there is nothing to summarize."""
    if not isinstance(article.text, str):
        raise SummarizerError("The article text must be a string.")
    document = read_document(article.text)
    title = clean_title(article.title or document.title)
    language = language_of(document.body)
    sentences = _without_title(split_sentences(_DATELINE.sub("", document.body), language), title)
    if not any(word_count(sentence) for sentence in sentences):
        raise SummarizerError("There is no text to summarize.")
    notices = []
    if document.truncated:
        notices.append(f"The text is very long; only its first {MAX_INPUT_CHARS:,} characters were read.")
    if language != "en":
        notices.append("The text does not look like English; this summary may be poor.")
    too_short = word_count(document.body) < MIN_WORDS
    if too_short:
        notices.append("The text is too short to summarize; it is shown as it is.")
    else:
        # Points are whole sentences: headings, list fragments, bylines and captions are not. A text with
        # none at all keeps what it has rather than saying nothing. Pasted text (no address) may set its
        # key lines without a full stop; a page's unpunctuated lines are headings and captions.
        page = bool(article.url)
        sentences = [sentence for sentence in sentences
                     if is_whole_sentence(sentence, language, needs_closing=page)] or sentences
    return Prepared(article=article, sentences=sentences, title=title,
                    published=article.published or document.published, notice=" ".join(notices) or None,
                    too_short=too_short, language=language)


def _without_title(sentences: list[str], title: str | None) -> list[str]:
    """The sentences without an opening heading that repeats the title (a page's <h1>, a feed item whose
    body starts with its title) nor any other line that does: the title is the brief's headline already,
    not one of its points."""
    if not title or len(sentences) < 2:
        return sentences
    heading = _plain(title)
    kept = [sentence for sentence in sentences if _plain(sentence) != heading] or sentences
    first = _plain(kept[0])
    if len(kept) > 1 and first and heading.startswith(first) and not ends_like_sentence(kept[0]):
        return kept[1:]
    return kept


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))
