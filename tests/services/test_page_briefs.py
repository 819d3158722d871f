"""Briefs of web pages read right: the story's title, whole sentences from the main text, every page through
one reader (character set from the bytes, link text and drop caps kept), and the date from metadata only.

Every page here is made up for the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sources.pages import extract_page
from summarizer import ArticleText, Summarizer, SummarizerConfig
from summarizer.headline import lead_headline
from summarizer.page import read_page
from summarizer.sentences import is_whole_sentence, split_sentences
from summarizer.text import read_document

ROOT = Path(__file__).resolve().parents[2]
FILLER = [
    "The harbour board met on Tuesday evening to discuss the winter timetable for the two ferries.",
    "Members agreed that the early crossing would run every day from the first week of November.",
    "The board also asked the council to repair the slipway before the first storms of the season arrive.",
    "A public meeting about the fares is planned for the end of the month in the town hall.",
    "Residents who cannot attend may send their comments to the board by letter or by email.",
    "The chair thanked the crews for keeping the service running through a difficult summer.",
]


def page(body: str, *, head: str = "", lang: str = "en", charset: str = "utf-8") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="{charset}">{head}</head><body>'
            f'<nav><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a></li>'
            f'<li><a href="/notes/">Notes</a></li><li><a href="/contact/">Contact</a></li></ul></nav>'
            f"<article>{body}</article><footer><p>© Harbour Gazette</p></footer></body></html>")


def paragraphs(sentences: list[str]) -> str:
    return "".join(f"<p>{sentence}</p>" for sentence in sentences)


def lead_brief(text: str, *, title: str | None = None, url: str | None = "https://gazette.example/story",
               sentences: int = 3) -> object:
    [brief] = Summarizer(SummarizerConfig(backend="lead", sentences=sentences)).summarize(
        [ArticleText(text=text, title=title, url=url)], max_chars=10_000)
    return brief


# --- headlines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", [
    "Ferry timetable changes for winter | Harbour Gazette",
    "Harbour Gazette - Ferry timetable changes for winter",
    "Ferry timetable changes for winter — gazette.example",
    "Ferry timetable changes for winter :: Harbour Gazette | News from the coast since 1901",
])
def test_the_headline_drops_the_sites_name_and_separators(title):
    head = f'<title>{title}</title><meta property="og:site_name" content="Harbour Gazette">'
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://www.gazette.example/2024/ferry")
    assert found.title == "Ferry timetable changes for winter"


def test_a_title_whose_site_name_stands_in_brackets_loses_it_and_keeps_its_guillemets():
    head = '<meta property="og:title" content="»Die Fähre bleibt im Hafen« (Hafen Kurier)">'
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://www.hafen-kurier.example/artikel/7")
    assert found.title == "»Die Fähre bleibt im Hafen«"
    head = '<meta property="og:title" content="« Le bac reste au port » | Le Courrier du Port">'
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://courrier-du-port.example/bac")
    assert found.title == "« Le bac reste au port »"


def test_a_blogs_title_tail_goes_when_the_posts_own_heading_names_the_story():
    # No og:title, no <h1>: the post's heading is an <h2> in the main text, the blog's name follows a bar.
    head = "<title>Neue Fähre im Einsatz | Notizen vom Hafen und mehr</title>"
    body = "<h2>Neue Fähre im Einsatz</h2>" + paragraphs(FILLER)
    found = extract_page(page(body, head=head), url="https://notizen.example/2024/05/neue-faehre/")
    assert found.title == "Neue Fähre im Einsatz"
    brief = lead_brief(found.text, title=found.title)
    assert "Neue Fähre im Einsatz" not in brief.points


def test_a_title_with_a_question_before_the_sites_name_keeps_the_question():
    # No declared site name: the story before the bar must not be taken for the site's name.
    head = "<title>Fähre im Winter. Teuer, nötig oder beides? | Hafenblatt</title>"
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://hafenblatt.example/faehre-im-winter")
    assert found.title == "Fähre im Winter. Teuer, nötig oder beides?"


def test_a_linked_h1_is_the_headline_not_a_label():
    head = "<title>Home</title>"
    body = '<h1><a href="https://video.example/watch/7">Time to say goodbye.</a></h1>' + paragraphs(FILLER)
    found = extract_page(page(body, head=head), url="https://gazette.example/")
    assert found.title == "Time to say goodbye."


def test_a_title_whose_tail_is_not_the_site_keeps_it():
    head = '<title>Strikes end - talks resume</title><meta property="og:site_name" content="Harbour Gazette">'
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://gazette.example/strikes")
    assert found.title == "Strikes end - talks resume"


def test_a_category_label_is_never_the_headline_the_story_heading_is():
    head = '<meta property="og:title" content="Notes"><title>Notes | Harbour Gazette</title>'
    body = "<h1>Slipway repairs start in March</h1>" + paragraphs(FILLER)
    found = extract_page(page(body, head=head), url="https://gazette.example/notes/slipway")
    assert found.title == "Slipway repairs start in March"


def test_a_page_with_only_labels_gets_its_lead_as_headline_not_the_label():
    head = ('<meta property="og:title" content="Harbour Gazette"><meta property="og:site_name" '
            'content="Harbour Gazette"><title>News</title>')
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://gazette.example/news/item-7")
    assert found.title is None
    brief = lead_brief(found.text, title=found.title)
    assert brief.headline.startswith("The harbour board met on Tuesday")
    assert all(point != FILLER[0] for point in brief.points)  # the headline is not repeated as a point


def test_the_headline_is_not_repeated_as_a_point():
    text = "Ferry timetable changes for winter\n" + "\n".join(FILLER)
    brief = lead_brief(text, title="Ferry timetable changes for winter")
    assert brief.headline == "Ferry timetable changes for winter"
    assert not any("Ferry timetable changes for winter" in point for point in brief.points)


def test_pasted_text_without_a_title_avoids_a_but_opening_for_its_headline():
    assert lead_headline(["But the crews were not told.", "The ferry will run all winter."]) \
        == "The ferry will run all winter."
    assert lead_headline(["But the crews were not told."]) == "But the crews were not told."
    text = "But the crews were not told until Monday, a union official said.\n" + "\n".join(FILLER)
    brief = lead_brief(text, url=None)
    assert brief.headline.startswith("The harbour board met")
    assert brief.points[0].startswith("But the crews")  # pasted text keeps its points as they are


# --- points ------------------------------------------------------------------------------------------------


def test_headings_lists_bylines_datelines_captions_and_server_warnings_never_become_points():
    body = ("<h1>Ferry timetable changes for winter</h1>"
            "<p>By Anna Berg, Tom Ode</p>"
            "<p>NORTH HARBOUR, ME.</p>"
            "<p>Strict Standards: Non-static method JSite::getMenu() should not be called statically in "
            "/var/www/site/index.php on line 12</p>"
            "<h2>Early crossings</h2>"
            f"<p>{FILLER[0]}</p><figure><img src='f.jpg'><figcaption>The ferry at dawn</figcaption></figure>"
            "<ul><li>2 crews</li><li>1 slipway</li></ul>"
            f"<h2>What about fares?</h2>{paragraphs(FILLER[1:])}")
    found = extract_page(page(body, head="<title>Ferry timetable changes for winter</title>"),
                         url="https://gazette.example/ferry")
    assert "Strict Standards" not in found.text
    brief = lead_brief(found.text, title=found.title, sentences=4)
    assert brief.points == FILLER[:4]


def test_a_dateline_opening_the_lead_is_cut_from_the_point():
    text = "SOUTHWEST MIAMI-DADE, FLA. — " + FILLER[0] + "\n" + "\n".join(FILLER[1:])
    brief = lead_brief(text, title="Ferry news")
    assert brief.points[0] == FILLER[0]


def test_a_page_with_fewer_real_sentences_than_asked_gets_fewer_points_not_fragments():
    body = ("<h1>Opening hours</h1><p>The ticket office on the quay opens at seven every morning of the week.</p>"
            "<ul><li>Monday to Friday</li><li>7:00 to 19:00</li><li>Saturday</li><li>8:00 to 12:00</li></ul>"
            "<p>The ticket office closes on public holidays and during the annual maintenance week.</p>"
            "<ul><li>Fares</li><li>Adults 4 euros</li><li>Children 2 euros</li><li>Bicycles free</li></ul>")
    text = extract_page(page(body, head="<title>Opening hours</title>"), url="https://gazette.example/hours",
                        min_chars=10).text
    brief = lead_brief(text, title="Opening hours", sentences=4)
    assert len(brief.points) == 2 and all(point.startswith("The ticket office") for point in brief.points)


def test_german_ordinal_dates_stay_inside_their_sentence():
    text = ("Die Gemeinde hat am 25. Juni beschlossen, die Fähre auch im Winter fahren zu lassen. "
            "Der Fahrplan gilt ab dem 1. November. Am 15. März 2020 verkündete der Rat die neuen Preise. "
            "Der Hafenmeister sprach von einem großen Tag für die ganze Region am See.")
    sentences = split_sentences(text, "de")
    assert sentences[0] == "Die Gemeinde hat am 25. Juni beschlossen, die Fähre auch im Winter fahren zu lassen."
    assert "Am 15. März 2020 verkündete der Rat die neuen Preise." in sentences
    brief = lead_brief(text, title="Fähre fährt im Winter", sentences=4)  # the language is detected
    assert "Die Gemeinde hat am 25. Juni beschlossen, die Fähre auch im Winter fahren zu lassen." in brief.points
    assert not any(re.search(r"\b\d{1,2}\.$", point) for point in brief.points)


def test_a_german_numeric_date_does_not_end_the_sentence():
    text = ("Nach der Sitzung vom 7.10. wurde der neue Fahrplan verschoben, teilte die Gemeinde am Montag mit. "
            "Die Opposition kritisierte das sofort.")
    assert split_sentences(text, "de") == [
        "Nach der Sitzung vom 7.10. wurde der neue Fahrplan verschoben, teilte die Gemeinde am Montag mit.",
        "Die Opposition kritisierte das sofort."]


@pytest.mark.parametrize(("text", "language", "first"), [
    ('The captain said: "We sail at six. Nobody stays behind." The crew cheered loudly at the news.', "en",
     'The captain said: "We sail at six. Nobody stays behind."'),
    ("Der Kapitän sagte: „Wir legen um sechs ab. Niemand bleibt zurück.“ Die Mannschaft jubelte laut.", "de",
     "Der Kapitän sagte: „Wir legen um sechs ab. Niemand bleibt zurück.“"),
    ("Le capitaine a dit : « Nous partons à six heures. Personne ne reste. » L'équipage a applaudi.", "fr",
     "Le capitaine a dit : « Nous partons à six heures. Personne ne reste. »"),
])
def test_a_quotation_with_full_stops_inside_is_one_sentence(text, language, first):
    assert split_sentences(text, language)[0] == first


def test_cut_fragments_are_not_whole_sentences():
    assert not is_whole_sentence("The Hyogo Prefectural")
    assert not is_whole_sentence("Die Sitzung findet am 25.", "de")
    assert not is_whole_sentence('He said "we will go there tomorrow.')
    assert not is_whole_sentence("- 1 Pck. Backpulver und etwas Zucker.")
    assert not is_whole_sentence("03.04. | Die Leitfrage ist gepostet und kommentiert.", "de")  # a table row
    assert not is_whole_sentence("[Our latest forecast: who will win the harbour seat?]")  # a link to another story
    assert is_whole_sentence("The mayor [of the harbour town] resigned on Friday.")
    assert not is_whole_sentence("The new ferry leaves the harbour on its first crossing. Photo: J. Smith.")
    assert not is_whole_sentence("Die neue Fähre im Hafen von Kiel am Montag (Foto: dpa).", "de")
    assert not is_whole_sentence("Article mis à jour le 7 janvier 2020 à midi.", "fr")
    assert is_whole_sentence("The photo agency updated its prices on Monday.")
    assert is_whole_sentence("He had been in hospital since February 5.", "en")
    assert is_whole_sentence("Ellipses… do not end it, the full stop does.")


# --- one page reader -------------------------------------------------------------------------------------


def test_link_text_inside_a_sentence_survives():
    sentence = ('<p>The senator has a substantial lead in the state, but <a href="/poll" aria-hidden="true">'
                "a recent poll</a>, notably, shows him slipping among young voters.</p>")
    found = read_page(page(sentence + paragraphs(FILLER)).encode(), url="https://gazette.example/poll")
    assert ("The senator has a substantial lead in the state, but a recent poll, notably, shows him slipping "
            "among young voters.") in found.text.splitlines()


@pytest.mark.parametrize("drop_cap", [
    '<div class="dropcap">T</div><p>urkey, Poland and Hungary agreed on a shared ferry fund on Monday.</p>',
    '<p><span class="dropcap" aria-hidden="true">T</span>urkey, Poland and Hungary agreed on a shared ferry '
    "fund on Monday.</p>",
    '<p><img src="t.png" alt="T">urkey, Poland and Hungary agreed on a shared ferry fund on Monday.</p>',
])
def test_a_drop_cap_stays_on_its_word(drop_cap):
    found = read_page(page(drop_cap + paragraphs(FILLER)).encode(), url="https://gazette.example/fund")
    assert "Turkey, Poland and Hungary agreed on a shared ferry fund on Monday." in found.text.splitlines()


@pytest.mark.parametrize("see_also", [
    "Read more: Ferry crews vote to strike over winter rota",
    "Lea también: Los transbordadores del puerto cambian de horario",
    "LE PUEDE INTERESAR: El puerto abre una nueva terminal",
    "Lesen Sie auch: Die Fähre fährt bald elektrisch",
    "Czytaj także: Prom wraca na linię",
    "Weitere Themen",
])
def test_links_to_other_stories_set_inside_the_text_are_left_out(see_also):
    body = paragraphs(FILLER[:3]) + f"<p><strong>{see_also}</strong></p>" + paragraphs(FILLER[3:])
    found = read_page(page(body).encode(), url="https://gazette.example/ferry")
    assert found.text.splitlines() == FILLER


@pytest.mark.parametrize("appeal", [
    "Never miss a sailing: sign up for our newsletter today!",
    "To read the whole story, please subscribe to the Harbour Gazette.",
    "Follow the Gazette on Twitter and on Facebook for the latest timetables.",
    "¿Ya sabías que tenemos canal de Telegram? Únete desde tu celular.",
    "© 2024 Harbour Gazette. All rights reserved.",
    "Foto: © Hafenamt",
    "Quelle: Hafenamt Kiel",
    "Titelbild: Hafenamt/Archiv",
    "We test every ferry app ourselves, and advertisers do not influence our picks. We may earn a commission.",
    "This guide contains affiliate links: the Gazette gets a small share of what you spend.",
    "Die Fahrpläne jetzt auch als App! Einfach hier klicken und kostenlos registrieren!",
    "First-time subscribers also receive a tide table printed on the island!",
    "4 min read",
    "Lesezeit: 3 Minuten",
])
def test_calls_to_action_and_rights_notices_are_not_the_story(appeal):
    body = paragraphs(FILLER[:4]) + f"<p>{appeal}</p>" + paragraphs(FILLER[4:])
    found = read_page(page(body).encode(), url="https://gazette.example/ferry")
    assert found.text.splitlines() == FILLER


def test_a_story_about_subscriptions_and_rights_keeps_its_sentences():
    story = ["New users can sign up for an account on the ferry app and get their first crossing free.",
             "The licence says some rights reserved, not all rights reserved, so the photos may be reused freely."]
    found = read_page(page(paragraphs([*story, *FILLER])).encode(), url="https://gazette.example/app")
    assert found.text.splitlines() == [*story, *FILLER]


def test_an_html_comment_inside_a_sentence_does_not_cut_it():
    body = (paragraphs(FILLER[:3]) + "<p>The ferry will keep its winter timetable<!-- ad slot --> until the end of "
            "March, the harbour board said.</p><!-- teaser -->" + paragraphs(FILLER[3:]))
    found = read_page(page(body).encode(), url="https://gazette.example/ferry")
    assert ("The ferry will keep its winter timetable until the end of March, the harbour board said."
            in found.text.splitlines())


def test_an_article_inside_a_wrapper_whose_class_opens_with_comment_is_read():
    html = (f'<html><body><div class="comments-enabled"><article>{paragraphs(FILLER)}</article></div>'
            '<div id="comments"><p>What a great idea, the council should have done this years ago.</p></div>'
            "</body></html>")
    text = read_page(html.encode(), url="https://gazette.example/ferry").text
    assert all(sentence in text for sentence in FILLER) and "great idea" not in text  # no reader's comment


def test_an_old_page_set_in_font_tags_and_line_breaks_is_read():
    body = "<font face='Arial'>" + "".join(f"<font>{sentence}</font><br>" for sentence in FILLER) + "</font>"
    html = f"<html><head><title>Ferry news</title></head><body>{body}</body></html>"
    text = read_page(html.encode()).text
    assert all(sentence in text for sentence in FILLER)


def test_a_paragraph_written_without_p_tags_beside_a_figure_is_kept():
    loose = "The new ferry can carry two hundred passengers and forty cars on each crossing of the bay."
    body = (paragraphs(FILLER[:3]) + '<figure><img src="ferry.jpg" alt="The ferry"><figcaption>The ferry'
            f"</figcaption></figure>\n{loose}\n" + paragraphs(FILLER[3:]))
    found = read_page(page(body).encode(), url="https://gazette.example/ferry")
    assert loose in found.text.splitlines()
    assert found.text.splitlines().index(loose) == 3  # in reading order


def test_a_script_end_tag_with_something_before_its_bracket_hides_only_the_script():
    # Browsers end "</script" at the first ">", whatever stands between; the page after it is the page.
    head = '<script src="/tracker.js"></script\n  <!-- the page plugin -->\n'
    found = read_page(page(paragraphs(FILLER), head=head).encode(), url="https://gazette.example/timetable")
    assert found.text.splitlines() == FILLER
    assert "tracker" not in found.text


def test_the_character_set_comes_from_the_header_the_page_or_detection():
    body = paragraphs(["Die Fähre fährt für alle Gäste — auch im Winter, sagte der Bürgermeister am Montag.",
                       *FILLER])
    latin = page(body, charset="iso-8859-1", lang="de").encode("windows-1252")
    assert "für alle Gäste — auch" in read_page(latin).text  # <meta charset>, read as windows-1252
    bare = latin.replace(b'<meta charset="iso-8859-1">', b"")
    assert "für alle Gäste — auch" in read_page(bare, content_type="text/html; charset=windows-1252").text
    assert "für alle Gäste" in read_page(bare).text  # detected


def test_a_utf8_page_that_declares_latin_1_is_read_as_utf8():
    # A server's default header or a stale template <meta> names ISO-8859-1; the bytes are UTF-8.
    body = paragraphs(["Die Fähre fährt für alle Gäste — auch im Winter, sagte der Bürgermeister am Montag.",
                       *FILLER])
    raw = page(body, charset="iso-8859-1", lang="de").encode("utf-8")
    assert "für alle Gäste — auch" in read_page(raw).text
    assert "für alle Gäste — auch" in read_page(raw, content_type="text/html; charset=ISO-8859-1").text


def test_a_custom_element_named_like_a_script_hides_nothing():
    body = '<script-loader src="/widgets.js"></script-loader>' + paragraphs(FILLER)
    found = read_page(page(body).encode(), url="https://gazette.example/timetable")
    assert found.text.splitlines() == FILLER


def test_a_windows_1252_page_through_python_m_bot_summarize(tmp_path):
    sentences = ["Die Stadtwerke erhöhen die Preise für Fähren und Busse ab März um zwölf Prozent.",
                 "Für Schüler und Rentner bleibt der Fahrpreis gleich, teilte die Gemeinde mit.",
                 "Der Bürgermeister sprach von einer schwierigen, aber nötigen Entscheidung für die Stadt.",
                 "Die Opposition kündigte an, gegen die Erhöhung im Gemeinderat zu stimmen."]
    head = ('<title>Fähren werden teurer – Hafenblatt</title><meta property="og:site_name" content="Hafenblatt">'
            '<meta property="article:published_time" content="2024-02-20T09:30:00+01:00">')
    path = tmp_path / "seite.html"
    path.write_bytes(page(paragraphs(sentences), head=head, charset="windows-1252", lang="de").encode("cp1252"))
    result = subprocess.run([sys.executable, "-m", "bot", "summarize", str(path), "--backend", "lead"], cwd=ROOT,
                            capture_output=True, text=True, encoding="utf-8", timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    printed = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stdout).split())
    assert "Fähren werden teurer" in printed and "Hafenblatt" not in printed
    assert "Für Schüler und Rentner bleibt der Fahrpreis gleich" in printed
    assert "2024-02-20" in printed
    assert "\ufffd" not in printed and "Ã" not in printed


def test_url_pages_and_saved_files_read_the_same(tmp_path):
    html = page(paragraphs(FILLER), head="<title>Ferry timetable changes for winter | Harbour Gazette</title>"
                                         '<meta property="og:site_name" content="Harbour Gazette">')
    from_url = extract_page(html.encode(), url="https://gazette.example/ferry")
    document = read_document(html)  # what `python -m bot summarize` and pasted HTML go through
    assert document.body == from_url.text
    assert document.title == from_url.title == "Ferry timetable changes for winter"


def test_a_saved_page_is_read_by_the_same_reader_as_a_fetched_one(tmp_path):
    from bot.cli.summarize import read_input

    # A zero-width space and a soft hyphen: the bot's page reader removes both, whichever way the page came.
    sentences = ["The harbour\u200b board met on Tues\u00adday evening to discuss the winter timetable.", *FILLER[1:]]
    head = ('<title>Ferry timetable changes for winter | Harbour Gazette</title>'
            '<meta property="og:site_name" content="Harbour Gazette">'
            '<meta property="article:published_time" content="2024-02-20T09:30:00+01:00">')
    raw = page(paragraphs(sentences), head=head, charset="windows-1252").encode("cp1252", "ignore")
    path = tmp_path / "saved.html"
    path.write_bytes(raw)
    fetched = extract_page(raw, url="https://gazette.example/ferry", content_type="text/html")
    saved = read_input(str(path))
    assert (saved.text, saved.title, saved.published) == (fetched.text, fetched.title, fetched.date)
    assert fetched.text.startswith("The harbour board met on Tuesday evening")


def test_only_the_page_reader_calls_trafilatura():
    callers = sorted(str(path.relative_to(ROOT)) for folder in ("bot", "summarizer")
                     for path in (ROOT / folder).rglob("*.py") if "trafilatura" in path.read_text(encoding="utf-8")
                     and re.search(r"^\s*(?:from|import) trafilatura", path.read_text(encoding="utf-8"), re.M))
    assert callers == ["summarizer/page.py"]


def test_a_feed_description_with_inline_tags_becomes_plain_text():
    description = ("The <b>harbour board</b> met on Tuesday &amp; agreed on <a href='https://x.example/t'>the "
                   "winter timetable</a> for both ferries.<br>Crossings start at <i>six</i> every morning.")
    brief = lead_brief(description, title="Winter timetable")
    assert brief.points == ["The harbour board met on Tuesday & agreed on the winter timetable for both ferries.",
                            "Crossings start at six every morning."]


# --- dates ---------------------------------------------------------------------------------------------------


def test_the_publication_date_comes_from_the_pages_metadata():
    head = '<meta property="article:published_time" content="2024-05-06T08:00:00+02:00">'
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://gazette.example/ferry")
    assert found.date == datetime(2024, 5, 6, 6, 0, tzinfo=UTC)


def test_the_date_is_the_publications_not_the_last_changes():
    head = ('<meta property="article:published_time" content="2024-05-06T08:00:00+00:00">'
            '<meta property="article:modified_time" content="2024-09-30T17:00:00+00:00">')
    found = extract_page(page(paragraphs(FILLER), head=head), url="https://gazette.example/ferry")
    assert found.date == datetime(2024, 5, 6, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("stamp", ["<small>06.05.2024</small>", '<abbr class="published" title="2024-05-06">6 May</abbr>',
                                   '<a href="/archive/"><span class="entry-date">06.05.2024</span></a>'])
def test_a_date_set_inside_a_byline_paragraph_is_read(stamp):
    byline = f"<p>Written by the harbour desk with pictures from the crew of the morning ferry, {stamp}</p>"
    found = extract_page(page(byline + paragraphs(FILLER)), url="https://gazette.example/ferry")
    assert found.date is not None and found.date.date() == datetime(2024, 5, 6).date()


@pytest.mark.parametrize("data, day", [
    ('window.pageData = {"story": {"id": 7, "datePublished": "2024-05-06T08:00:00Z"}};', (2024, 5, 6)),
    ("var story = {publish_date: '2024-05-06'};", (2024, 5, 6)),
    ('var s = "{\\"publishedAt\\":\\"2024-05-06 23:30:00-02:00\\"}";', (2024, 5, 7)),
    ('var story = {"dateModified": "2024-05-06"};', None),  # a change, not the publication
    ('var story = {"datePublished": "2999-05-06"};', None),  # after today: a wrong clock
])
def test_a_publication_date_in_a_scripts_data_is_read_when_nothing_else_gives_one(data, day):
    found = extract_page(page(paragraphs(FILLER), head=f"<script>{data}</script>"), url="https://gazette.example/f")
    assert (found.date.date() if found.date else None) == (datetime(*day).date() if day else None)


def test_no_date_is_guessed_from_prose():
    body = paragraphs(["The first ferry crossed the lake in 2015, and the second one followed in March 2019.",
                       *FILLER])
    found = extract_page(page(body), url="https://gazette.example/history")
    assert found.date is None


def test_long_chosen_sentences_leave_room_for_two_whole_points_not_one():
    long = "The council " + "discussed the harbour budget and the ferry timetable at great length " * 5 + "on Tuesday."
    text = "\n".join([long, long.replace("council", "board"), "The ferry runs every day of the week.",
                      "Fares stay the same this winter, the council said."])
    [brief] = Summarizer(SummarizerConfig(backend="lead")).summarize(
        [ArticleText(text=text, title="Harbour news", url="https://gazette.example/a")], max_chars=600)
    assert len(brief.points) >= 2
    assert len(brief.headline) + sum(map(len, brief.points)) <= 600
    assert all(is_whole_sentence(point) for point in brief.points)  # none cut with an ellipsis


def test_a_list_item_that_is_a_sentence_is_a_point_without_its_own_bullet():
    body = "<h1>Winter service</h1><ul>" + "".join(f"<li>{sentence}</li>" for sentence in FILLER[:4]) + "</ul>"
    found = extract_page(page(body, head="<title>Winter service</title>"), url="https://gazette.example/winter")
    brief = lead_brief(found.text, title=found.title)
    assert brief.points == FILLER[:3]  # no "- " left for the chat's own bullet to double


# --- the lead and the words of tables and quotes ----------------------------------------------------------

LEAD = ("The harbour board will buy a second ferry next spring, so that the island is served every hour "
        "even in the winter months.")


def lead_page(lead_block: str, *, description: str = LEAD) -> bytes:
    """A news page whose lead stands apart from the body, beside the headline, as news sites set it."""
    head = (f'<title>A second ferry for the island</title><meta property="og:description" content="{description}">')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">' + head + '</head><body>'
            '<nav><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a></li></ul></nav>'
            '<div class="story-header"><h1>A second ferry for the island</h1>'
            f'<div class="teaser-box"><span class="location">Harbour Town.</span>{lead_block}</div>'
            '<div class="share"><a href="/share">Share</a> <a href="/print">Print</a></div></div>'
            f'<div class="story-body">{paragraphs(FILLER)}</div>'
            '<footer><p>© Harbour Gazette</p></footer></body></html>').encode()


def test_the_lead_set_apart_from_the_body_opens_the_text_and_the_brief():
    found = extract_page(lead_page(f"<p><strong>{LEAD}</strong></p>"), url="https://gazette.example/second-ferry")
    assert found.text.splitlines()[0] == LEAD
    assert found.text.splitlines()[1:] == FILLER
    brief = lead_brief(found.text, title=found.title)
    assert LEAD in brief.points[0]


def test_a_lead_the_body_holds_already_is_not_repeated():
    body = "<article>" + paragraphs([LEAD, *FILLER]) + "</article>"
    html = f'<html><head><meta name="description" content="{LEAD}"></head><body>{body}</body></html>'
    assert read_page(html.encode()).text.splitlines() == [LEAD, *FILLER]


def test_a_description_the_page_does_not_show_or_shows_in_a_sidebar_is_not_the_lead():
    hidden = lead_page("<p>Read the whole story below.</p>")
    assert LEAD not in read_page(hidden).text
    sidebar = hidden.replace(b"<footer>", f"<aside><p>{LEAD}</p></aside><footer>".encode())
    assert LEAD not in read_page(sidebar).text
    # A site's tagline (short, or without a full stop) is not a lead.
    question = "Why does the island need a second ferry, and who is going to pay for it in the end?"
    titled = lead_page(f"<h2>{question}</h2>", description=question).replace(
        b"<title>A second ferry for the island</title>", f"<title>{question}</title>".encode())
    assert question not in read_page(titled).text  # the headline, not a lead
    tagline = lead_page("<p>News from the coast.</p>", description="News from the coast.")
    assert "News from the coast." not in read_page(tagline).text
    motto = "Ferries, harbours, island life and the people who keep the coast running all year"
    assert motto not in read_page(lead_page(f"<p>{motto}</p>", description=motto)).text


def test_an_authors_description_in_json_ld_is_not_the_lead():
    bio = ("Jo Marsh has covered the harbour and its ferries for twenty years. She lives on the island with "
           "two dogs and a boat.")
    person = f'{{"@type": "Person", "name": "Jo Marsh", "description": "{bio}"}}'
    html = lead_page(f'<p class="author-box">{bio}</p>', description="").replace(
        b"</head>", f'<script type="application/ld+json">{person}</script></head>'.encode())
    assert bio not in read_page(html).text


def test_words_in_a_table_cell_split_by_line_breaks_stay_apart():
    names = ["Anna Berg", "Carl Dunn", "Eva Frost", "Gus Hale"]
    table = ("<table><tr><td>" + "<br>".join(f"<strong>{name}</strong>, skipper" for name in names)
             + "</td><td>Crew of the winter ferry</td></tr></table>")
    text = read_page(page(paragraphs(FILLER[:3]) + table + paragraphs(FILLER[3:])).encode()).text
    assert "Anna Berg, skipper Carl Dunn, skipper Eva Frost" in text
    assert "skipperCarl" not in text


def test_list_items_set_inside_a_quote_are_lines_of_their_own():
    items = ["Name: Morning crossing", "Leaves: 6:30 from the harbour", "Arrives: 7:15 on the island"]
    quote = "<blockquote>" + "".join(f"<li>{item}</li>" for item in items) + "</blockquote>"
    lines = read_page(page(paragraphs(FILLER[:3]) + quote + paragraphs(FILLER[3:])).encode()).text.splitlines()
    assert all(item in lines for item in items)


def test_decomposed_accents_are_composed():
    sentence = "Le bac reprendra son service apre\u0300s une enque\u0302te sur la te\u0301le\u0301commande du port."
    text = read_page(page(paragraphs([sentence, *FILLER]), lang="fr").encode()).text
    assert text.splitlines()[0] == "Le bac reprendra son service après une enquête sur la télécommande du port."


def test_sentences_in_neighbouring_elements_are_not_glued():
    box = ('<p>The winter timetable starts on Monday for every crossing of the bay. <strong><span class="box">'
           'It is online now!</span></strong><a href="/timetable">Find every crossing on one page.</a></p>')
    text = read_page(page(paragraphs(FILLER[:3]) + box + paragraphs(FILLER[3:])).encode()).text
    assert "of the bay. It is online now! Find every crossing on one page." in text


def test_a_block_the_page_names_its_lead_opens_the_text_when_there_is_one():
    html = lead_page(f'<p class="article-lead">{LEAD}</p>', description="")
    assert read_page(html).text.splitlines()[0] == LEAD
    # Several "intro" blocks are other stories' teasers, none of them this story's lead.
    teasers = "".join(f'<div class="teaser-intro"><h3>Story {n}</h3><p>The island school opens a new wing for '
                      f'its pupils in the spring number {n}.</p></div>' for n in range(3))
    html = lead_page("<p>Read on.</p>", description="").replace(b"<footer>", f"{teasers}<footer>".encode())
    assert "new wing" not in read_page(html).text


def test_a_page_of_many_blocks_named_intro_has_no_named_lead():
    # Past MAX_NAMED_LEADS such blocks the page is a list (or hostile), and reading on would cost without end.
    from summarizer.page import MAX_NAMED_LEADS

    labels = '<div class="intro">Ferry</div>' * MAX_NAMED_LEADS
    html = lead_page(f'{labels}<p class="lead">{LEAD}</p>', description="")
    assert LEAD not in read_page(html).text
