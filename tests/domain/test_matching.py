"""Keyword alert queries: parsing, canonical forms, matching semantics, and the index against a naive reference."""

from __future__ import annotations

import pytest

from bot.domain.matching import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Query,
    QueryError,
    SubscriptionIndex,
    Term,
    normalized,
    parse_query,
    tokenize,
)
from tests.support.matching_reference import RegexQuery, make_workload, naive_match


def terms(*words: str) -> tuple[Term, ...]:
    return tuple(sorted(Term(tuple(w.split())) for w in words))


# ----- parsing -----------------------------------------------------------------------------------

def test_words_phrases_and_exclusions():
    query = parse_query('"North Korea" missiles -sports -"Premier League"')
    assert query.required == terms("north korea", "missiles")
    assert query.excluded == terms("premier league", "sports")
    assert query.normalized == 'missiles "north korea" -"premier league" -sports'
    assert query.display == '"North Korea" missiles -sports -"Premier League"'


@pytest.mark.parametrize("typed, same_as", [
    ("Climate  POLICY", "policy climate"),  # case, spacing and order do not matter
    ("“North Korea” -sports", '"north korea" -sports'),  # smart quotes from phone keyboards
    ("„North Korea“", '"north korea"'),
    ("North-Korea", '"north korea"'),  # punctuation inside a term makes a phrase
    ('"north korea', '"north korea"'),  # an unclosed quote runs to the end
    ("climate NOT policy", "climate -policy"),
    ("climate AND policy", "climate policy"),
    ("ai AI Ai", "ai"),  # duplicates collapse
    ("ＡＩ ﬁnance", "ai finance"),  # NFKC: full-width letters, ligatures
    ("Straße", "strasse"),  # casefold
    ("climate —policy", "climate -policy"),  # an em dash typed by autocorrect still excludes
    ("climate !!! ...", "climate"),  # punctuation-only terms are dropped
])
def test_equivalent_spellings_share_one_normalized_form(typed, same_as):
    assert parse_query(typed) == parse_query(same_as)
    assert normalized(typed) == normalized(same_as)


@pytest.mark.parametrize("typed", [
    "climate", '"north korea" -sports', "東京 -大阪", '"東京 tower" café', "COVID-19 -Москва", '-"a b" c "d e f"',
])
def test_normalized_form_parses_back_to_the_same_query(typed):
    query = parse_query(typed)
    again = parse_query(query.normalized)
    assert again == query and again.normalized == query.normalized


def test_queries_differing_only_in_display_are_equal_and_hash_alike():
    assert {parse_query("Climate"), parse_query("climate")} == {parse_query("CLIMATE")}
    assert parse_query("Climate").display == "Climate"


@pytest.mark.parametrize("typed, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("-sports -betting", "only excludes"),
    ("!!! ???", "no words"),
    ("a" * (MAX_QUERY_LENGTH + 1), "too long"),
    (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), "terms"),
    ("apple OR google", "OR is not supported"),
    ('"north korea" -korea', "never match"),
    ("sports -Sports", "never match"),
    ("\ufdfa" * 30, "once normalised"),  # NFKC turns each into 18 characters
])
def test_unusable_queries_are_explained(typed, message):
    with pytest.raises(QueryError, match=message):
        parse_query(typed)


def test_limits_are_inclusive():
    assert parse_query("a" * MAX_QUERY_LENGTH)
    assert len(parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS))).required) == MAX_TERMS


# ----- matching semantics --------------------------------------------------------------------------

@pytest.mark.parametrize("query, text, expected", [
    # whole words
    ("art", "Modern art, today", True),
    ("art", "ART!", True),
    ("art", "A party for the artist", False),
    ("19", "Since 2019", False),
    # several terms: all of them, anywhere
    ("climate policy", "Policy on the climate", True),
    ("climate policy", "The climate only", False),
    # phrases: adjacent and in order; punctuation between words does not matter
    ('"north korea"', "North Korea's leader", True),
    ('"north korea"', "North-Korea", True),
    ('"north korea"', "north  korea", True),
    ('"north korea"', "Korea North", False),
    ('"north korea"', "north of Korea", False),
    ("COVID-19", "Covid 19 cases", True),
    ("macy's", "Macy’s parade", True),
    # exclusions
    ("football -betting", "Football results", True),
    ("football -betting", "Football betting odds", False),
    ('football -"premier league"', "Premier League football", False),
    ('football -"premier league"', "Football: the league's premier event", True),
    # non-ASCII words are whole words too
    ("café", "Café culture in Paris", True),
    ("café", "cafe culture", False),
    ("Zürich", "ZÜRICH bank", True),
    ("Москва", "Москва, 5 мая", True),
    ("Москва", "Подмосковье", False),
    ("σοφοκλης", "ΣΟΦΟΚΛΗΣ", True),  # final sigma
    ("Straße", "STRASSE gesperrt", True),
    ("हिन्दी", "हिन्दी भाषा", True),  # combining marks belong to the word
    ("हिन्दी", "हन्द", False),
    # scripts without spaces: substring
    ("東京", "東京都で地震", True),
    ("東京", "【東京】", True),
    ("東京", "京都の東", False),
    ("トヨタ", "トヨタ自動車が発表", True),
    ("서울", "서울에서 열린", True),
    ("กรุงเทพ", "ที่กรุงเทพมหานคร", True),
])
def test_match(query, text, expected):
    assert parse_query(query).matches(text) is expected
    assert (SubscriptionIndex([(1, parse_query(query))]).match(text) == {1}) is expected


def test_accent_folding_is_optional():
    query = parse_query("zurich cafe")
    text = "Zürich: a café on the lake"
    assert not query.matches(text)
    assert query.matches(text, fold_accents=True)
    assert SubscriptionIndex([("s", query)], fold_accents=True).match(text) == {"s"}
    assert SubscriptionIndex([("s", parse_query("Zürich"))], fold_accents=True).match("ZURICH") == {"s"}


def test_tokenizer():
    assert tokenize("North-Korea’s café, 3.5% ＡＩ") == ["north", "korea", "s", "café", "3", "5", "ai"]
    assert tokenize("東京2024年") == ["東", "京", "2024", "年"]


# ----- the index -----------------------------------------------------------------------------------

def test_index_returns_every_subscriber_of_a_matching_query():
    index = SubscriptionIndex([
        (1, parse_query("climate")), (2, parse_query("Climate")), (3, parse_query('"climate policy"')),
        (4, parse_query("climate -policy")), (5, parse_query("energy")),
    ])
    assert len(index) == 5
    assert index.match("New climate policy announced") == {1, 2, 3}
    assert index.match("Climate summit") == {1, 2, 4}
    assert index.match("Nothing relevant") == set()
    assert SubscriptionIndex([]).match("climate") == set()


def test_index_finds_a_query_through_any_of_its_terms():
    # Whichever term the index files the query under, every term must still be checked.
    index = SubscriptionIndex([(1, parse_query('ai "north korea" x -sports'))])
    assert index.match("x: AI in North Korea") == {1}
    assert index.match("AI in North Korea") == set()
    assert index.match("x: AI in North Korea sports") == set()


@pytest.mark.slow
def test_index_equals_the_naive_reference_on_10000_subscriptions_and_100_texts():
    subscriptions, texts = make_workload(subscriptions=10_000, texts=100)
    index = SubscriptionIndex(subscriptions)

    expected = naive_match(subscriptions, texts)
    got = [index.match(text) for text in texts]

    assert got == expected
    # The workload must exercise what it claims: many matches, phrases, and exclusions that bite.
    assert sum(len(ids) for ids in expected) > 5_000
    phrases = {sub_id for sub_id, q in subscriptions if any(len(t.tokens) > 1 for t in q.required)}
    assert len(phrases & set().union(*expected)) > 100
    without_exclusions = SubscriptionIndex((sub_id, Query(q.required, (), q.display)) for sub_id, q in subscriptions)
    blocked = sum(len(without_exclusions.match(text) - ids) for text, ids in zip(texts, expected, strict=True))
    assert blocked > 50


def test_reference_agrees_with_hand_checked_cases():
    # The reference is only useful if it is right on its own: a few cases it must get right.
    assert RegexQuery(parse_query("art")).matches("modern art")
    assert not RegexQuery(parse_query("art")).matches("party")
    assert RegexQuery(parse_query('"north korea"')).matches("north-korea")
    assert not RegexQuery(parse_query("東京")).matches("京都の東")
    assert not RegexQuery(parse_query("football -betting")).matches("football betting")
