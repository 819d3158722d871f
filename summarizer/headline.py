"""A story's headline: the page's title without the site's name, never a site, section or menu label;
without a title, the lead sentence (not one that opens by pointing back, "But ...").

`page_title` reads what `page.py` gathered: og:title / twitter:title / JSON-LD headline, the <h1>s, the
<title>, the main text's headings, the site's names (og:site_name, JSON-LD publisher, the host) and the
page's link texts.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

# " | Site", " - Site", " — Site", " :: Site", " · Site", " » Section": a separator between spaces.
_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»«~/:]|::)\s+|\s*[|·•»]\s*")
_EDGE_SEPARATOR = re.compile(r"^(?:\s*(?:[|\-–—·•»«~/:]|::))+\s*|\s*(?:[|\-–—·•»«~/:]|::)+\s*$")
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,12}/?$", re.IGNORECASE)
_QUOTED = re.compile(r"»[^«»]+«|«[^«»]+»")
_HIDE_GUILLEMETS = str.maketrans("»«", "\ue000\ue001")
_SHOW_GUILLEMETS = str.maketrans("\ue000\ue001", "»«")
_BRACKETED_TAIL = re.compile(r"\s*\(([^()]{3,60})\)\s*$")
LABEL_MAX_WORDS = 4  # a menu, section or category label is a word or a few

# Words that open a sentence by pointing back at an earlier one; such a sentence makes a poor headline.
_CONNECTIVES = frozenset(
    "but and yet so also however still though although instead meanwhile moreover furthermore then thus "
    "aber und doch jedoch dennoch trotzdem auch allerdings außerdem mais et pourtant cependant donc aussi "
    "pero y sin embargo además también mas e porém contudo também ma tuttavia però anche".split()
)


def page_title(found: dict, url: str | None = None) -> str | None:
    """The first title source that names the story once its site's name is cut away; None if all are labels."""
    page_url = url or found.get("url") or None
    names = _site_names(found.get("site_names", []), page_url)
    generators = {_letters(value.split()[0]) for value in found.get("generator", []) if value.split()}
    labels = {_letters(text) for text, href in found.get("links", []) if not _is_self(href, page_url)}
    # trafilatura's own reading comes last: it cuts titles at any dash ("Strikes end - talks resume").
    sources = [*found.get("og", []), *found.get("h1", []), *found.get("title", [])]
    candidates = [*sources, *found.get("trafilatura", [])]
    whole = {_letters(candidate) for candidate in [*sources, *found.get("headings", [])]}
    for candidate in candidates:
        title = _without_site(candidate, names, labels, whole)
        if title and not _is_label(title, names, labels, generators):
            return title
    return None


def clean_title(title: str | None) -> str | None:
    """A title given with an article (a feed's, a caller's): one line, without empty separators at its ends."""
    return _unshield(_trimmed(_shield(title or ""))) or None


def _trimmed(title: str) -> str:
    return _EDGE_SEPARATOR.sub("", " ".join(title.split()))


def _shield(text: str) -> str:
    """Guillemets that quote (»Kein Geld mehr«, « Pas d'argent ») hidden from the separator rules, which
    read a lone » as one ("Story » Section")."""
    return _QUOTED.sub(lambda match: match.group(0).translate(_HIDE_GUILLEMETS), text)


def _unshield(text: str) -> str:
    return text.translate(_SHOW_GUILLEMETS)


def lead_headline(points: list[str]) -> str:
    """The sentence a headline comes from when there is no title: the first point, unless it opens by pointing
    back ("But ...", "However, ...") and a later one does not."""
    for point in points:
        first = re.match(r"[\W\d_]*([^\W\d_]+)", point)
        if not first or first.group(1).casefold() not in _CONNECTIVES:
            return point
    return points[0]


def _without_site(title: str, names: set[str], labels: set[str], whole: set[str]) -> str | None:
    found = _without_site_shielded(_shield(title), names, labels, whole)
    return _unshield(found) if found else None


def _without_site_shielded(title: str, names: set[str], labels: set[str], whole: set[str]) -> str | None:
    title = _trimmed(title)
    # "Story (Site)": the site's name in brackets at the end.
    tail = _BRACKETED_TAIL.search(title)
    if tail and tail.start() and _names_site(tail.group(1), names):
        title = _trimmed(title[:tail.start()])
    segments = [part for part in _SEPARATOR.split(title) if part.strip()]
    if len(segments) < 2:
        return title or None
    # A segment that is another title source on its own ("Story | Site" beside og:title "Story") wins.
    for segment in segments:
        if (len(_letters(segment)) >= 8 and _letters(segment) in whole and _letters(segment) != _letters(title)
                and not _names_site(segment, names)):
            return _trimmed(segment)
    # The site's name and whatever follows it (a tagline), or precedes it when it leads.
    named = [index for index, segment in enumerate(segments) if index and _names_site(segment, names)]
    if named:
        segments = segments[:named[0]]
    while len(segments) > 1 and (_names_site(segments[-1], names) or _is_section(segments[-1], labels)):
        segments.pop()
    while len(segments) > 1 and (_names_site(segments[0], names) or _is_section(segments[0], labels)):
        segments.pop(0)
    if len(segments) == len(_SEPARATOR.split(title)):
        return title
    return _trimmed(_rejoin(title, segments))


def _rejoin(title: str, segments: list[str]) -> str:
    """The kept segments with the separators that stood between them in the title."""
    start = title.find(segments[0])
    end = title.rfind(segments[-1]) + len(segments[-1])
    return title[start:end] if 0 <= start < end else " ".join(segments)


def _is_label(title: str, names: set[str], labels: set[str], generators: set[str]) -> bool:
    letters = _letters(title)
    if not letters or _names_site(title, names) or letters in generators:
        return True
    return _is_section(title, labels)


def _is_section(text: str, labels: set[str]) -> bool:
    return len(text.split()) <= LABEL_MAX_WORDS and _letters(text) in labels


def _names_site(segment: str, names: set[str]) -> bool:
    letters = _letters(segment)
    if not letters:
        return True
    if _DOMAIN.match(segment.strip()):
        return True
    return any(letters == name or (len(name) >= 4 and len(segment.split()) <= 4
                                   and (letters.startswith(name) or letters.endswith(name)
                                        or name.startswith(letters) and len(letters) >= 4))
               for name in names)


def _site_names(declared: list[str], url: str | None) -> set[str]:
    names = {_letters(name) for name in declared}
    host = (urlsplit(url).hostname or "") if url else ""
    host = host.removeprefix("www.")
    if host:
        parts = host.split(".")
        names |= {_letters(host), _letters(".".join(parts[:-1])), _letters(parts[-2] if len(parts) > 1 else host)}
    return {name for name in names if len(name) >= 3}


def _is_self(href: str | None, page_url: str | None) -> bool:
    if not href or not page_url:
        return False
    try:
        target, page = urlsplit(urljoin(page_url, href)), urlsplit(page_url)
    except ValueError:
        return False
    return (target.hostname, target.path.rstrip("/")) == (page.hostname, page.path.rstrip("/"))


def _letters(text: str) -> str:
    return "".join(re.findall(r"[^\W_]+", text.casefold()))
