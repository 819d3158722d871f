"""canonical_url and content_fingerprint: the same story, however it is linked or spelled."""

from __future__ import annotations

import pytest

from bot.domain.dedupe import canonical_url, content_fingerprint


@pytest.mark.parametrize("url, canonical", [
    ("HTTPS://News.Example.COM/World/Story", "https://news.example.com/World/Story"),
    ("https://news.example.com:443/a", "https://news.example.com/a"),
    ("http://news.example.com:80/a", "http://news.example.com/a"),
    ("https://news.example.com:8443/a", "https://news.example.com:8443/a"),
    ("https://news.example.com/a#comments", "https://news.example.com/a"),
    ("https://news.example.com/a/", "https://news.example.com/a"),
    ("https://news.example.com", "https://news.example.com/"),
    ("https://news.example.com/", "https://news.example.com/"),
    ("https://news.example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://news.example.com/a"),
    ("https://news.example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=tw&cmpid=5&ocid=6&smid=7",
     "https://news.example.com/a"),
    ("https://news.example.com/a?UTM_Source=x&CMP=share_btn", "https://news.example.com/a"),
    ("https://news.example.com/search?q=b&page=2&utm_source=x", "https://news.example.com/search?page=2&q=b"),
    ("https://news.example.com/s?q=a%20b&id=7", "https://news.example.com/s?id=7&q=a%20b"),
    ("https://user:pw@news.example.com/a", "https://news.example.com/a"),
    ("https://bücher.example/straße", "https://xn--bcher-kva.example/straße"),
    ("https://news.example.com./a", "https://news.example.com/a"),
    ("  https://news.example.com/a  ", "https://news.example.com/a"),
    ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_links_to_one_story_share_a_canonical_url():
    spellings = ["https://news.example.com/2024/budget?utm_source=rss",
                 "HTTPS://NEWS.EXAMPLE.COM:443/2024/budget/#top",
                 "https://news.example.com/2024/budget?fbclid=abc&utm_campaign=x"]
    assert len({canonical_url(u) for u in spellings}) == 1


def test_meaningful_query_and_path_case_are_kept():
    assert canonical_url("https://x.example/Story?id=1") != canonical_url("https://x.example/story?id=1")
    assert canonical_url("https://x.example/story?id=1") != canonical_url("https://x.example/story?id=2")


@pytest.mark.parametrize("url", ["", "not a url", "/relative/path", "mailto:someone@example.com",
                                 "https://x.example:99999/"])
def test_not_an_absolute_url_raises_value_error(url):
    with pytest.raises(ValueError):
        canonical_url(url)


BODY = ("The city council approved the new budget on Tuesday after a long debate. Schools receive most of the "
        "increase, with money for new teachers and repairs. Parks get a smaller share, enough to plant trees "
        "along the river and reopen two playgrounds. The mayor called it balanced.")


def test_the_same_story_from_two_feeds_matches():
    from_feed_a = content_fingerprint("Budget passes!", f"<p>{BODY}</p><p>Footer of feed A</p>" + " more" * 100)
    from_feed_b = content_fingerprint("  BUDGET   passes ", BODY.upper().replace(". ", " ... ") + " other tail")
    assert from_feed_a == from_feed_b
    assert len(from_feed_a) == 64 and int(from_feed_a, 16) >= 0


def test_entities_markup_and_width_forms_fold():
    full_width_f = "\uff26"
    assert (content_fingerprint("Café &amp; bar", f"<b>{full_width_f}ull</b>&nbsp;width")
            == content_fingerprint("café & bar", "full width"))


def test_different_stories_differ():
    assert content_fingerprint("Budget passes", BODY) != content_fingerprint("Budget fails", BODY)
    assert content_fingerprint("Budget passes", BODY) != content_fingerprint("Budget passes", "Another story " + BODY)


def test_title_only_items():
    assert content_fingerprint("Live: election night", None) == content_fingerprint("live — election night", "")
    assert content_fingerprint(None, None) == content_fingerprint("", "")
