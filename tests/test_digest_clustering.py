"""Choosing the same-story threshold on the real MiniLM embeddings of paraphrased news.

Each event is told two or three times in different words, as different outlets would; the
distractors are different events on the same topic (two earthquakes, two central banks, two
elections). The threshold must keep every paraphrase pair together and every other pair apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest

from bot.domain.digest import SAME_STORY_THRESHOLD, DigestBrief, group_stories

EVENTS = {
    "quake_japan": [
        ("Strong earthquake shakes northern Japan, tsunami warning issued",
         ["A magnitude 7.1 quake struck off the coast of Aomori on Tuesday.",
          "Authorities told coastal residents to move to higher ground."]),
        ("Japan issues tsunami alert after 7.1-magnitude tremor off Aomori",
         ["The quake hit early Tuesday near the northern coast.",
          "People living by the sea were ordered to evacuate to high ground."]),
        ("Magnitude 7.1 earthquake off northern Japan prompts tsunami warning",
         ["Residents of Aomori's coast were urged to flee inland after Tuesday's strong tremor."]),
    ],
    "quake_turkey": [
        ("Earthquake of magnitude 5.4 hits western Turkey, damaging old buildings",
         ["The tremor near Izmir on Sunday injured a dozen people.", "Several historic houses collapsed."]),
        ("Dozen hurt as 5.4 quake rattles Izmir region in Turkey",
         ["Sunday's earthquake brought down some old houses in western Turkey."]),
    ],
    "ecb": [
        ("European Central Bank cuts interest rates by a quarter point",
         ["The ECB lowered its deposit rate to 2.5% on Thursday, citing slowing inflation in the euro zone."]),
        ("ECB lowers deposit rate to 2.5% as eurozone inflation eases",
         ["Policymakers in Frankfurt trimmed borrowing costs by 25 basis points on Thursday."]),
    ],
    "fed": [
        ("US Federal Reserve holds rates steady, signals patience",
         ["The Fed kept its benchmark rate unchanged on Wednesday and said it needs more evidence "
          "inflation is cooling."]),
        ("Fed leaves interest rates unchanged, says it will wait for clearer inflation data",
         ["Chair Powell told reporters on Wednesday there is no rush to cut."]),
    ],
    "mars": [
        ("NASA rover finds organic molecules in Martian rock",
         ["The Perseverance rover detected carbon compounds in a sample from Jezero crater, scientists said."]),
        ("Perseverance detects carbon-based molecules in rock on Mars",
         ["Scientists say the sample from Jezero crater could hold clues to ancient life."]),
    ],
    "rail_strike": [
        ("Rail workers in Germany begin 48-hour strike",
         ["The GDL union walked out on Monday, halting most long-distance trains across the country."]),
        ("German train drivers launch two-day walkout, long-distance services halted",
         ["The GDL union's strike started on Monday morning."]),
    ],
    "france_votes": [
        ("French voters head to the polls in snap parliamentary election",
         ["Turnout was high by midday on Sunday, the interior ministry said."]),
        ("High turnout reported as France votes in early legislative election",
         ["By noon on Sunday more voters had cast ballots than in 2022."]),
    ],
    "uk_councils": [
        ("Britain's Labour Party wins local council elections",
         ["The party gained control of several councils in results announced on Friday."]),
        ("Labour takes key councils in UK local elections, results show",
         ["Friday's count handed the party several new councils."]),
    ],
    "athens_fire": [
        ("Wildfire forces thousands to evacuate near Athens",
         ["Strong winds spread flames through pine forests north of the Greek capital on Saturday."]),
        ("Thousands flee as forest fire spreads toward Athens suburbs",
         ["Firefighters battled wind-driven flames in pine woods north of the city."]),
    ],
    "iphone": [
        ("Apple unveils new iPhone with faster chip and better camera",
         ["The company showed the device at its September event in Cupertino."]),
        ("New iPhone gets speedier processor and upgraded camera, Apple says",
         ["The phone was presented at the annual autumn launch event."]),
    ],
}
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus():
    from summarizer import embed

    briefs, labels = [], []
    for event, tellings in EVENTS.items():
        for number, (headline, points) in enumerate(tellings):
            brief_id = len(briefs) + 1
            briefs.append(DigestBrief(brief_id=brief_id, headline=headline, points=points,
                                      url=f"https://outlet{number}.example/{event}", sources=(f"Outlet {number}",),
                                      created_at=T0 + timedelta(minutes=brief_id)))
            labels.append(event)
    return briefs, labels, embed([brief.embedding_text() for brief in briefs])


def test_the_threshold_lies_between_paraphrases_and_different_events(corpus):
    briefs, labels, vectors = corpus
    similarity = vectors @ vectors.T
    same = [similarity[i, j] for i, j in combinations(range(len(briefs)), 2) if labels[i] == labels[j]]
    different = [similarity[i, j] for i, j in combinations(range(len(briefs)), 2) if labels[i] != labels[j]]
    assert max(different) < SAME_STORY_THRESHOLD < min(same)


def test_paraphrased_stories_become_one_entry_each_with_all_their_links(corpus):
    briefs, labels, vectors = corpus
    stories = group_stories(briefs, vectors)
    grouped = sorted(sorted(labels[b.brief_id - 1] for b in story.briefs) for story in stories)
    assert grouped == sorted([event] * len(tellings) for event, tellings in EVENTS.items())
    # The event told by three outlets ranks first, with its three links.
    top = stories[0].item()
    assert {link.url for link in top.links} == {f"https://outlet{n}.example/quake_japan" for n in range(3)}
    assert [link.label for link in top.links] == ["Outlet 0", "Outlet 1", "Outlet 2"]
