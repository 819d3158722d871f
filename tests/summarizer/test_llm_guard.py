"""The llm backend's faithfulness guard and its reading of model answers, on invented articles."""

from __future__ import annotations

import pytest

from summarizer.faithfulness import ArticleFacts, number_readings, unsupported
from summarizer.llm_reply import ReplyError, parse_reply

ARTICLE = (
    "Ferry services between Kessford and Port Anvel resumed on March 4, 2025, after a three-day strike, "
    "the operator Nordlinje said. About 1,500 passengers a day use the route. Mayor Åsa Lindqvist called "
    "the deal \"a fair result for everyone\". Fares rise by 3.5 percent from 1 April. The crew union, led "
    "by Tomas Berg, had asked for 12 more staff. Die Bundesregierung in Berlin sah keinen Anlass."
)
FACTS = ArticleFacts.of(ARTICLE)


@pytest.mark.parametrize("line", [
    "Ferries between Kessford and Port Anvel run again after a three-day strike.",
    "About 1.500 passengers a day use the route.",  # a German thousands separator
    "About 1 500 passengers use the route daily.",  # a thin-space style separator
    "Fares rise by 3,5 percent.",  # a decimal comma
    "Services resumed on 4.3.2025.",  # the date written another way
    "Services resumed on 2025-03-04.",
    "Mayor Asa Lindqvist welcomed the deal.",  # diacritics dropped
    "The union of Tomas Berg wanted 12 more staff.",
    "Mayor Lindqvist called it “a fair result for everyone”.",
    "Nordlinje's strike ended after three days.",
])
def test_what_the_article_supports_passes(line):
    assert unsupported(line, FACTS) == []


@pytest.mark.parametrize("line, problem", [
    ("About 2,500 passengers a day use the route.", "number 2,500"),
    ("Fares rise by 4.5 percent.", "number 4.5"),
    ("Services resumed on 5 March 2025.", "number 5"),
    ("Mayor John Carver welcomed the deal.", "name John"),
    ("The deal was brokered by NATO.", "name NATO"),
    ("Lindqvist called it \"the best deal in decades\".", "quote"),
    ("Read more at https://example.com/ferry.", "a link, handle or markup"),
    ("Post this to @channel now.", "a link, handle or markup"),
    ("Everyone in <!channel> should know.", "a link, handle or markup"),
    ("Trending as #ferrystrike.", "a link, handle or markup"),
])
def test_invented_numbers_names_quotes_and_links_are_found(line, problem):
    problems = unsupported(line, FACTS)
    assert any(found.startswith(problem) for found in problems), problems


def test_in_german_a_capitalized_noun_is_no_name_but_an_invented_name_is():
    assert unsupported("Die Regierung in Berlin sah keinen Anlass zum Eingreifen.", FACTS, language="de") == []
    assert unsupported("Die Regierung lobte Olaf Scholz.", FACTS, language="de") == ["name Olaf", "name Scholz"]
    # The same sentence read as English would count "Regierung" and "Eingreifen" as names
    assert unsupported("The Regierung in Berlin saw no Eingreifen.", FACTS) == ["name Eingreifen"]


def test_number_readings_cover_separators_and_leading_zeros():
    assert number_readings("1,500") == {"1500", "1.5"}
    assert number_readings("03") == {"3"}
    assert number_readings("2.50") == {"2.5"}
    assert number_readings("10,000,000") >= {"10000000"}


# ----- reading answers -----------------------------------------------------------------------------

def test_plain_json():
    assert parse_reply('{"headline": "Ferries run again", "points": ["One.", "Two."]}') == \
        ("Ferries run again", ["One.", "Two."])


def test_json_inside_prose_and_a_code_fence():
    answer = 'Sure! Here is the brief you asked for:\n```json\n{"headline": "H", "points": ["One.", "Two."]}\n```\n' \
             "Let me know if you need anything else {like this}."
    assert parse_reply(answer) == ("H", ["One.", "Two."])


def test_a_reasoning_block_before_the_answer_is_skipped():
    answer = '<think>The user wants {"points": ["wrong"]}... fine.</think>\n{"headline": "H", "points": ["A.", "B."]}'
    assert parse_reply(answer) == ("H", ["A.", "B."])


def test_a_truncated_answer_keeps_its_complete_points():
    answer = '{"headline": "Ferries \\"back\\"", "points": ["First point.", "Second point.", "Third po'
    assert parse_reply(answer) == ('Ferries "back"', ["First point.", "Second point."])


def test_other_keys_and_object_points_and_markdown():
    answer = '{"title": "**H**", "key_points": [{"text": "- **One**."}, "2. Two."]}'
    assert parse_reply(answer) == ("H", ["One.", "Two."])


def test_a_bulleted_list_without_json():
    assert parse_reply("Ferries run again\n\n- One.\n* Two.\n3) Three.") == (None, ["One.", "Two.", "Three."])


@pytest.mark.parametrize("answer", ["", "I cannot help with that.", '{"headline": "H", "points": []}', '{"points": "x"}'])
def test_an_answer_without_points_is_an_error(answer):
    with pytest.raises(ReplyError):
        parse_reply(answer)
