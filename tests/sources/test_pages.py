"""extract_page through trafilatura on real-looking and hostile HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sources.pages import PageError, extract_page

PARAGRAPHS = [
    "The city council approved the new budget on Tuesday after a debate that lasted well into the night.",
    "Schools receive most of the increase, with money set aside for new teachers and repairs to old buildings.",
    "Parks get a smaller share, enough to plant trees along the river and to reopen two closed playgrounds.",
    "The mayor said the plan balanced the needs of families with the city's long-term debts.",
]
ARTICLE = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)


def page(head: str = "", body: str = "") -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Budget passes | City News</title>{head}"
            f"</head><body><nav><a href='/'>Home</a> | <a href='/world'>World</a> | <a href='/sport'>Sport</a></nav>"
            f"<article><h1>Budget passes</h1>{body or ARTICLE}</article>"
            f"<footer>Copyright City News. All rights reserved.</footer></body></html>").encode()


def test_main_text_title_date_and_canonical_url():
    head = ('<link rel="canonical" href="/2024/budget-passes">'
            '<meta property="article:published_time" content="2024-03-05T10:20:00+01:00">'
            '<meta name="author" content="Ann Lee"><meta property="og:site_name" content="City News">')

    content = extract_page(page(head), url="https://news.example.com/2024/budget-passes?utm_source=rss")

    assert content.title == "Budget passes"
    assert content.date == datetime(2024, 3, 5, 9, 20, tzinfo=UTC)
    assert content.canonical_url == "https://news.example.com/2024/budget-passes"
    assert content.author == "Ann Lee" and content.site_name == "City News"
    for paragraph in PARAGRAPHS:
        assert paragraph in content.text
    assert "Sport" not in content.text and "All rights reserved" not in content.text


def test_json_ld_metadata_survives_the_script_stripping():
    head = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
            '"headline": "Budget passes", "datePublished": "2024-06-01T08:00:00Z"}</script>'
            '<script>var tracking = "' + "x" * 500_000 + '";</script>')
    content = extract_page(page(head), url="https://news.example.com/b")
    assert content.date == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert PARAGRAPHS[0] in content.text and "tracking" not in content.text


def test_a_year_in_the_text_is_no_publication_date_but_a_time_element_is():
    # Guessing dates from prose (htmldate's extensive search) mistook "in 2015" for 1 January 2015.
    body = ARTICLE + "<p>The last budget this large passed in 2015, during a boom in housing construction.</p>"
    assert extract_page(page(body=body), url="https://news.example.com/b").date is None
    dated = body + '<p>Published <time datetime="2024-05-02T07:00:00Z">2 May 2024</time></p>'
    assert extract_page(page(body=dated), url="https://news.example.com/b").date == datetime(2024, 5, 2, 7, 0,
                                                                                             tzinfo=UTC)


def test_a_page_without_canonical_link_has_none():
    assert extract_page(page(), url="https://news.example.com/b").canonical_url is None


def test_text_input_and_declared_charset():
    latin = page(body="<p>" + "Café crème à la carte, déjà vu. " * 10 + "</p>").replace(
        b"charset='utf-8'", b"charset='iso-8859-1'").decode("utf-8").encode("iso-8859-1")
    assert "Café crème" in extract_page(latin, url="https://x.example/").text
    assert PARAGRAPHS[1] in extract_page(page().decode(), url="https://x.example/").text


@pytest.mark.parametrize("html", [
    b"",
    b"<html><body></body></html>",
    b"<html><body>" + b"<script>document.write('x')</script>" * 20_000 + b"</body></html>",
    b"<html><body><p>Please enable JavaScript.</p></body></html>",
    b"\x00\xff\xfe\x89PNG garbage" * 100,
    b"<div>" * 100_000 + b"<p>deep</p>" + b"</div>" * 100_000,
    b"<script" * 1_000_000,
], ids=["empty", "no-body", "script-shell", "too-short", "binary", "deep-nesting", "unclosed-scripts"])
def test_pages_without_main_text_raise_page_error(html):
    with pytest.raises(PageError) as caught:
        extract_page(html, url="https://x.example/")
    assert caught.value.reason == "no_text" and str(caught.value)


def test_input_is_capped_before_parsing():
    filler = "".join(f"<p>Paragraph {i} of a very long page, with enough words to count as text.</p>"
                     for i in range(60_000))  # about 5 MB
    content = extract_page(page(body=ARTICLE + filler), url="https://x.example/", max_bytes=200_000)
    assert PARAGRAPHS[0] in content.text
    assert "Paragraph 100 " in content.text and "Paragraph 59999 " not in content.text
