"""The summarizer end to end on the real MiniLM model: extractive and lead briefs, batching, budgets, bad input."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from summarizer import ArticleText, Brief, Summarizer, SummarizerConfig, SummarizerError, get_summarizer
from summarizer.budget import ELLIPSIS, HEADLINE_MAX_CHARS
from summarizer.encoder import SentenceEncoder, get_encoder
from summarizer.prepare import prepare
from summarizer.sentences import split_sentences
from summarizer.text import MAX_INPUT_CHARS, read_document
from tests.support.news import SAMPLES, shared_sample, story

SHARED_SAMPLE = shared_sample()
FERRY = next(path for path in SAMPLES if "ferry" in path.name)
NO_BUDGET = 100_000


def sentences_of(text: str) -> list[str]:
    return split_sentences(read_document(text).body)


def positions(points: list[str], text: str) -> list[int]:
    """Where each point sits among the article's sentences (fails if a point is not one of them)."""
    sentences = sentences_of(text)
    missing = [point for point in points if point not in sentences]
    assert not missing, f"points that are not sentences of the article: {missing}"
    return [sentences.index(point) for point in points]


def brief_length(brief: Brief) -> int:
    return len(brief.headline) + sum(map(len, brief.points))


@pytest.fixture(scope="module")
def extractive() -> Summarizer:
    return get_summarizer()


@pytest.fixture(scope="module")
def lead() -> Summarizer:
    return get_summarizer(SummarizerConfig(backend="lead"))


@pytest.fixture
def encode_calls(monkeypatch) -> list[list[str]]:
    """Every call to the real process-wide encoder, which still does the work."""
    encoder = get_encoder()
    real_encode = encoder.encode
    calls: list[list[str]] = []

    def counting_encode(texts, **kwargs):
        calls.append(list(texts))
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(encoder, "encode", counting_encode)
    return calls


# --- the default (extractive) backend ---------------------------------------------------------------------


def test_a_news_article_gets_a_headline_and_key_sentences_in_reading_order(extractive):
    text = FERRY.read_text(encoding="utf-8")
    [brief] = extractive.summarize([ArticleText(text=text, url="https://news.example/ferry")])

    assert brief.backend == "extractive"
    assert 2 <= len(brief.points) <= 4
    indexes = positions(brief.points, text)
    assert indexes == sorted(set(indexes)), "points must be distinct and in reading order"
    assert brief.headline and "\n" not in brief.headline and len(brief.headline) <= HEADLINE_MAX_CHARS
    # Made from a key sentence of the text, which a page's brief then does not repeat as a point.
    assert brief.headline.rstrip(ELLIPSIS) in " ".join(text.split())
    assert not any(brief.headline.rstrip(ELLIPSIS) in point for point in brief.points)
    assert brief.url == "https://news.example/ferry"
    assert brief.published == date(2025, 3, 4)  # from the sample's date line
    assert brief.title is None and brief.notice is None
    assert brief.summary == "\n".join(brief.points)


def test_title_url_and_date_of_the_article_are_carried_into_the_brief(extractive):
    published = datetime(2025, 3, 5, 8, 30)
    article = ArticleText(text=FERRY.read_text(encoding="utf-8"), title="  Kessford gets an\nelectric ferry ",
                          url="https://news.example/kessford", published=published)
    [brief] = extractive.summarize([article])
    assert brief.title == brief.headline == "Kessford gets an electric ferry"
    assert brief.url == "https://news.example/kessford"
    assert brief.published == published  # the caller's date wins over the date line


@pytest.mark.parametrize("count", [1, 2, 4, 6])
def test_the_number_of_points_is_the_one_asked_for(extractive, count):
    text = FERRY.read_text(encoding="utf-8")
    [brief] = extractive.summarize([ArticleText(text=text)], sentences=count, max_chars=NO_BUDGET)
    assert len(brief.points) == count
    indexes = positions(brief.points, text)
    assert indexes == sorted(set(indexes))


@pytest.mark.parametrize("budget", [80, 150, 250, 400])
def test_a_brief_fits_its_length_budget(extractive, budget):
    article = ArticleText(text=FERRY.read_text(encoding="utf-8"))
    [unbounded] = extractive.summarize([article], max_chars=NO_BUDGET)
    assert brief_length(unbounded) > budget  # otherwise this test proves nothing

    [brief] = extractive.summarize([article], max_chars=budget)
    assert brief_length(brief) <= budget
    assert brief.points and brief.headline
    whole = sentences_of(article.text)
    for point in brief.points:  # whole sentences, or one cut on a word boundary with an ellipsis
        assert point in whole or (point.endswith(ELLIPSIS) and any(s.startswith(point[:-1]) for s in whole))


def test_the_configured_budget_applies_when_none_is_given():
    summarizer = Summarizer(SummarizerConfig(max_chars=120))
    [brief] = summarizer.summarize([ArticleText(text=FERRY.read_text(encoding="utf-8"))])
    assert brief_length(brief) <= 120


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_a_lead_repeated_as_the_next_sentence_is_not_chosen_twice(extractive, sample):
    sentences = sentences_of(sample.read_text(encoding="utf-8"))
    repeated = " ".join([sentences[0], *sentences])
    [brief] = extractive.summarize([ArticleText(text=repeated)], max_chars=NO_BUDGET)
    assert len(brief.points) == 3
    assert len(set(brief.points)) == len(brief.points), brief.points


def test_a_lead_repeated_as_its_own_paragraph_is_not_chosen_twice(extractive):
    sentences = sentences_of(FERRY.read_text(encoding="utf-8"))
    text = "\n\n".join([sentences[0], sentences[0], *sentences[1:]])
    [brief] = extractive.summarize([ArticleText(text=text)], max_chars=NO_BUDGET)
    assert brief.points.count(sentences[0]) <= 1
    assert len(set(brief.points)) == len(brief.points) == 3


def test_an_article_that_is_mostly_one_sentence_repeated_still_gets_distinct_points(extractive):
    first, second = sentences_of(FERRY.read_text(encoding="utf-8"))[:2]
    text = " ".join([first, first, first, second, first])
    [brief] = extractive.summarize([ArticleText(text=text)], max_chars=NO_BUDGET)
    assert sorted(brief.points) == sorted([first, second])


def test_a_page_headline_that_repeats_the_title_is_not_a_point(extractive):
    body = sentences_of(FERRY.read_text(encoding="utf-8"))
    text = "Kessford gets an electric ferry\n" + " ".join(body)
    [brief] = extractive.summarize([ArticleText(text=text, title="Kessford gets an electric ferry")])
    assert brief.headline == "Kessford gets an electric ferry"
    assert all(point in body for point in brief.points)


@pytest.mark.parametrize("title, text, dropped", [
    ("Storm closes road", "Storm closes road.\nFerries are cancelled. The council met.", True),
    ("Ferry to run on batteries | Example News", "Ferry to run on batteries\nThe ferry is new. It is quiet.", True),
    ("Ferry to run", "Ferry to run on batteries from June. The ferry is new.", False),  # a sentence, not a heading
    ("Council budget", "Storm closes road. Ferries are cancelled.", False),
])
def test_only_an_opening_heading_that_repeats_the_title_is_dropped(title, text, dropped):
    sentences = split_sentences(text)
    assert prepare(ArticleText(text=text, title=title)).sentences == (sentences[1:] if dropped else sentences)


# --- batching and loading -----------------------------------------------------------------------------------


def batch_articles() -> list[ArticleText]:
    texts = [path.read_text(encoding="utf-8") for path in SAMPLES] + [story(n)[1] for n in (1, 9, 20)]
    return [ArticleText(text=text, url=f"https://news.example/{n}") for n, text in enumerate(texts)]


def test_a_batch_is_encoded_in_one_call(extractive, encode_calls):
    articles = batch_articles()
    candidates = extractive.backend.scorer.candidates

    batch = extractive.summarize(articles)
    assert len(encode_calls) == 1
    assert len(encode_calls[0]) == sum(min(len(sentences_of(a.text)), candidates) for a in articles)
    assert [brief.url for brief in batch] == [article.url for article in articles]
    assert len({brief.headline for brief in batch}) == len(articles)
    for brief, article in zip(batch, articles):
        positions(brief.points, article.text)  # each brief is made of its own article's sentences


@pytest.fixture(scope="module")
def float_extractive() -> Summarizer:
    """The extractive backend on the float model, whose vectors do not depend on the batch."""
    from summarizer.backends.extractive import ExtractiveBackend

    return Summarizer(backend=ExtractiveBackend(SentenceEncoder(precision="float32")))


def test_batched_briefs_equal_one_by_one_briefs(float_extractive):
    # Exact on the float model: the batch bookkeeping (offsets, order) loses nothing.
    articles = batch_articles()
    batch = float_extractive.summarize(articles)
    assert batch == [float_extractive.summarize([article])[0] for article in articles]


def test_int8_vectors_move_little_with_the_batch():
    # The default int8 model quantizes activations over the whole batch, so a sentence's vector moves a
    # little with its neighbours: a borderline sentence may differ between a batch and a lone article.
    sentences = [sentence for article in batch_articles() for sentence in sentences_of(article.text)[:10]]
    encoder = get_encoder()
    together = encoder.encode(sentences)
    alone = np.vstack([encoder.encode([sentence]) for sentence in sentences[:12]])
    similarity = np.sum(together[:12] * alone, axis=1)
    assert similarity.min() > 0.97 and similarity.mean() > 0.985


def test_the_model_loads_once_per_process(extractive):
    assert get_summarizer() is extractive
    assert get_summarizer(SummarizerConfig()) is extractive  # an equal configuration shares the instance
    assert get_summarizer(SummarizerConfig(sentences=2)) is not extractive
    assert extractive.backend is extractive.backend
    encoder = get_encoder()
    assert extractive.backend.encoder is encoder
    assert Summarizer(SummarizerConfig(sentences=2)).backend.encoder is encoder  # a new Summarizer, same model
    assert get_encoder.cache_info().misses == 1  # the encoder was built once in this whole test process


def test_embed_uses_the_same_model_and_gives_unit_vectors(extractive, encode_calls):
    vectors = extractive.embed(["The ferry will run on batteries.", "An electric boat will cross the lake.",
                     "The striker scored twice in the cup final."])
    assert len(encode_calls) == 1
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


# --- the lead backend ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_lead_takes_the_first_sentences(lead, count):
    text = FERRY.read_text(encoding="utf-8")
    [brief] = lead.summarize([ArticleText(text=text)], sentences=count, max_chars=NO_BUDGET)
    assert brief.backend == "lead"
    assert brief.points == sentences_of(text)[:count]
    assert brief.headline == "The town of Kessford will run an electric ferry across Lake Marren from June"


def test_lead_on_an_article_shorter_than_asked(lead):
    text = ("The harbour road is closed after a storm washed part of it away on Sunday night. "
            "Repairs will take at least two weeks, the council said.")
    [brief] = lead.summarize([ArticleText(text=text)], sentences=5)
    assert brief.points == split_sentences(text)


# --- the sample format --------------------------------------------------------------------------------------


def test_the_shared_sample_file_gives_its_date_and_no_date_line_point(extractive):
    if not SHARED_SAMPLE.is_file():
        pytest.skip(f"the shared sample {SHARED_SAMPLE} is not on this machine")
    text = SHARED_SAMPLE.read_text(encoding="utf-8")
    assert text.lstrip().startswith("date 2024-11-01")
    [brief] = extractive.summarize([ArticleText(text=text)])
    assert brief.published == date(2024, 11, 1)
    assert brief.points
    assert not any("date 2024" in point or "2024-11-01" in point for point in brief.points)
    assert "2024-11-01" not in brief.headline
    positions(brief.points, text)


# --- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", " \n\t \n ", "<p></p>", " date 2024-11-01\n", "... !!! ---"])
def test_nothing_to_summarize_is_a_clear_error(extractive, text):
    with pytest.raises(SummarizerError, match="There is no text to summarize"):
        extractive.summarize([ArticleText(text=text)])


@pytest.mark.parametrize("text", [None, 42, b"The council met on Monday.", ["a", "list"]])
def test_text_that_is_not_a_string_is_a_clear_error(extractive, text):
    with pytest.raises(SummarizerError, match="must be a string"):
        extractive.summarize([ArticleText(text=text)])


def test_a_very_short_text_is_shown_as_it_is_with_a_notice(extractive, encode_calls):
    text = "Storm closes the harbour road. Ferries cancelled."
    [brief] = extractive.summarize([ArticleText(text=text)])
    assert brief.points == ["Storm closes the harbour road.", "Ferries cancelled."]
    assert brief.headline == "Storm closes the harbour road"
    assert "too short" in brief.notice
    assert encode_calls == []  # nothing to choose, so no model call


GERMAN = ("Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen, das die Regeln für die Einwanderung von "
          "Fachkräften vereinfachen soll. Die Opposition kritisierte den Entwurf als unzureichend und kündigte "
          "eine Klage an. Der Bundesrat muss dem Gesetz im Herbst noch zustimmen. Die Wirtschaftsverbände "
          "begrüßten die Entscheidung, forderten aber weniger Bürokratie bei den Visa.")
CHINESE = ("东京电力公司周四表示，将从下周开始向太平洋排放经过处理的福岛核电站冷却水。日本政府表示，这一计划符合国际安全标准，"
           "并得到了国际原子能机构的认可。邻国对此表示强烈担忧，并要求日本提供更多数据。当地渔民团体也反对这一计划，"
           "担心消费者不再购买福岛附近海域的水产品，影响他们的生计。")


@pytest.mark.parametrize("text", [GERMAN, CHINESE], ids=["german", "chinese"])
def test_text_that_is_not_english_gets_a_notice(extractive, text):
    [brief] = extractive.summarize([ArticleText(text=text)])
    assert "does not look like English" in brief.notice
    assert brief.points and brief.headline
    assert all(point in text for point in brief.points)


def test_a_2_mb_article_gets_a_brief_within_budget_with_a_truncation_notice(extractive):
    text = " ".join(story(n)[1] for n in range(2000))
    assert len(text) > 2_000_000
    [brief] = extractive.summarize([ArticleText(text=text)])
    assert "very long" in brief.notice and f"{MAX_INPUT_CHARS:,}" in brief.notice
    assert 0 < brief_length(brief) <= extractive.config.max_chars
    assert all(point.rstrip(ELLIPSIS) in text[:MAX_INPUT_CHARS] for point in brief.points)


def test_html_page_furniture_never_becomes_a_point(extractive):
    body = FERRY.read_text(encoding="utf-8").split(" ", 3)[3]  # without the date line
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in body.split("\n\n"))
    furniture = ["Subscribe now to read every story on this site.", "Sign up for our morning newsletter today.",
                 "Mayor resigns after a row over parking fees in the old town.",
                 "Copyright 2025 Example News. All rights reserved.", "Read the full story on our partner site."]
    html = (f'<html><head><title>Kessford ferry to run on batteries</title><script>var ad = "{furniture[0]}";'
            f'</script></head><body><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
            f"<li>{furniture[1]}</li></ul></nav><article><h1>Kessford ferry to run on batteries</h1>{paragraphs}"
            f"</article><aside><h3>Most read</h3><p>{furniture[2]}</p></aside><footer><p>{furniture[3]}</p>"
            f'</footer><script>trackPageView("{furniture[4]}");</script></body></html>')
    [brief] = extractive.summarize([ArticleText(text=html)], sentences=4, max_chars=NO_BUDGET)
    assert brief.title == brief.headline == "Kessford ferry to run on batteries"
    assert len(brief.points) == 4
    positions(brief.points, body)  # every point is a sentence of the story itself
    for line in furniture:
        assert not any(line[:20] in point for point in brief.points)


def test_summarize_each_keeps_errors_in_place_and_the_rest_still_get_briefs(extractive):
    good = batch_articles()[:3]
    articles = [good[0], ArticleText(text=""), good[1], ArticleText(text=42),
                ArticleText(text="Storm closes the harbour road."), good[2]]
    outcomes = extractive.summarize_each(articles)

    assert [type(outcome).__name__ for outcome in outcomes] == [
        "Brief", "SummarizerError", "Brief", "SummarizerError", "Brief", "Brief"]
    assert "no text" in str(outcomes[1]) and "must be a string" in str(outcomes[3])
    assert [outcomes[0], outcomes[2], outcomes[5]] == extractive.summarize(good)
    assert outcomes[4].points == ["Storm closes the harbour road."] and "too short" in outcomes[4].notice
    with pytest.raises(SummarizerError, match="no text"):  # summarize raises what summarize_each returns
        extractive.summarize(articles)


def test_an_empty_batch_gives_no_briefs(extractive, encode_calls):
    assert extractive.summarize([]) == []
    assert encode_calls == []
