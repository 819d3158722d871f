"""A web page's story: main text, headline, publication time and site name, from the page's bytes.

Every way a page reaches the bot (`/summary <url>`, a feed's teaser followed to its page, a followed
page, `python -m bot summarize FILE.html`) reads it here, so each gets the same text and title:

    page = read_page(raw_bytes, url="https://...", content_type="text/html; charset=...")
    page.text, page.title, page.published, page.site_name

The character set comes from the bytes: the HTTP header, a byte-order mark, `<meta charset>`, else
detection (charset-normalizer). Scripts and styles are cut out with a linear scan before parsing
(JSON-LD is kept for its metadata) and what remains is capped, so hostile HTML stays cheap.
trafilatura finds the main text; before it runs, inline links inside prose are unwrapped and drop caps
joined to their word, so neither link text nor a story's first letter goes missing. The lead a news page
sets apart beside its headline (which trafilatura often leaves out) opens the text: the block that shows
the page's own description, else the one block the page names its lead. Server warnings, links to other
stories set inside the text ("Read more: ..."), calls to action, rights notices and credit lines are left
out. The date is the publication's, from the page's metadata (a script's data too), never from prose.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from summarizer.headline import page_title

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 3_000_000
EARLIEST_DATE = date(1995, 1, 1)  # htmldate's own floor: no web page is older
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# A script or style element (not a custom element such as <script-loader>), or an unclosed one running to
# the end (one pass: linear time). Its end tag ends at the first ">", as a browser reads it, even when
# something stands between ("</script\n<!-- x -->"): required right after the name, a lone "</script"
# would hide the rest of the page.
_HIDDEN = re.compile(rb"<(script|style)(?![\w.:-])([^>]*)(?:>|\Z).*?(?:</\1(?:[\s/][^>]{0,2000})?>|\Z)",
                     re.DOTALL | re.IGNORECASE)
# A publication date a script's data names: "datePublished": "2024-03-12T10:00:00Z", publish_date='2024-03-12'
# (quotes escaped or not). Only keys that say "published"; a bare timestamp may be the page's build time.
_SCRIPT_DATE = re.compile(
    rb"""(?i:date_?published|publish(?:ed)?_?(?:date|at|time|on)|publication_?date|pub_?date|first_?published"""
    rb"""(?:_?(?:at|date))?)\\?["']?\s*[:=]\s*\\?["'](\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"""
    rb"""(?:Z|[+-]\d{2}:?\d{2})?)?)\\?["']""")
SCRIPT_DATE_SEARCH_BYTES = 500_000  # of each script: page data sits at its start, a bundle's code is long
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# PHP and similar server messages printed into a page ("Strict Standards: Non-static method ... on line 12").
SERVER_WARNING = re.compile(
    r"(?:Strict Standards|Deprecated|Warning|Notice|Fatal error|Parse error|Catchable fatal error)\s*:"
    r"[^\n]{0,600}?\bon line\s+\d+\.?", re.IGNORECASE)
# A link to another story set inside the text ("Lea también: ...", "Read more: ...", "Lesen Sie auch: ..."),
# or such a label alone as the heading of a list of them ("Weitere Themen"). Not the story's words.
_SEE_ALSO_LABELS = (
    "read more|read also|also read|see also|related|related articles?|related stories|related coverage|"
    "more on this|more on this story|recommended|watch|read|"
    "lea también|lea más|lee también|lee más|lea|lee|le puede interesar|te puede interesar|"
    "también te puede interesar|mira|ver también|ver más|noticia relacionada|noticias relacionadas|"
    "leia também|leia mais|veja também|veja|saiba mais|"
    "lire aussi|à lire aussi|lire également|à lire également|voir aussi|à voir aussi|"
    "lesen sie auch|lesen sie mehr|mehr zum thema|auch interessant|das könnte sie auch interessieren|siehe auch|"
    "weitere themen|mehr themen|weitere artikel|"
    "leggi anche|vedi anche|"
    "czytaj też|czytaj także|czytaj więcej|zobacz też|zobacz także|przeczytaj też|przeczytaj także|"
    "dowiedz się więcej|lees ook|lees meer|zie ook")
_SEE_ALSO = re.compile(rf"^(?:{_SEE_ALSO_LABELS})\s*(?::\s*\S.{{0,300}}|:?)$", re.IGNORECASE)
# A call to action or a rights notice set as a paragraph of its own, in the languages the bot meets: the
# site speaking to its reader (subscribe, follow us, write to the editor), not the story.
_APPEAL = re.compile(
    r"\b(?:sign(?:ing)? up (?:for|to) (?:our|the [\w ]{1,30}newsletter)|subscribe to (?:our|my|the [\w ]{1,30}"
    r"newsletter)|subscribe (?:now|today)|please subscribe|already a subscriber|our (?:daily )?newsletter|"
    r"follow (?:us|@\w+|the \w+ on)|letter to the editor|copyrighted property|written permission|"
    r"suscríbete|únete (?:a|desde)|síguenos|canal de (?:telegram|whatsapp)|"
    r"newsletter abonnieren|jetzt abonnieren|folgen sie uns|abonnez-vous|inscrivez-vous|suivez-nous|"
    r"inscreva-se|siga-nos|zapisz się|obserwuj nas|"
    # a disclosure of paid links, a click-here, a subscriber's offer, a reading time
    r"affiliate links?|affiliate-links?|we may (?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)|"
    r"advertisers do not influence|advertise with (?:us|the)|provisionslinks?|werbelinks?|enlaces de afiliados|"
    r"liens affiliés|click here|hier klicken|klicken sie hier|haga clic aquí|cliquez ici|clique aqui|"
    r"kliknij tutaj|(?:first-time |new )?subscribers (?:also )?(?:receive|get)|\d+ min(?:ute)?s? read|"
    r"lesezeit|temps de lecture|tiempo de lectura|tempo de leitura|czas czytania)\b", re.IGNORECASE)
APPEAL_MAX_CHARS = 300  # a longer paragraph that mentions a newsletter is more likely the story's own
# A rights notice: "© 2024 Gazette. All rights reserved.", "Foto: © Agency", a bare "All rights reserved."
# (a sentence about licences may say it too: without the sign, only a line too short to be one).
_RIGHTS = re.compile(r"\b(?:all rights reserved|todos los derechos reservados|alle rechte vorbehalten|"
                     r"tous droits réservés|todos os direitos reservados|wszelkie prawa zastrzeżone)\b",
                     re.IGNORECASE)
RIGHTS_MAX_CHARS, BARE_RIGHTS_MAX_CHARS = 120, 60
# A picture's or a figure's credit on a line of its own: "Foto: dpa", "Titelbild: ...", "Quelle: Amt".
_CREDIT = re.compile(r"^(?:Foto|Fotos|Fot\.|Photo|Photos|Photograph|Bild|Bilder|Titelbild|Bildquelle|Bildnachweis|"
                     r"Image|Images|Credit|Crédito|Crédit|Quelle|Source|Sources|Fuente|Fonte|Źródło|Zdjęcie)"
                     r"\s*[:.]", re.IGNORECASE)
CREDIT_MAX_CHARS = 150
LEAD_MIN_CHARS, LEAD_MAX_CHARS = 60, 1000  # a shorter description is a tagline or a label, not a lead
# The names news sites give their lead, one of the words of a class ("article-lead", "c-intro__text").
_LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:lead|lede|standfirst|intro|abstract|chapo|chapeau|sapo|entradilla|"
                         r"bajada|copete|dek)(?:$|[\s_-])", re.IGNORECASE)
# A lead is sentences (a long one may end on a quotation); a tagline or a label ends without a stop.
_LEAD_END = re.compile(r"[.!?…]['\"”’»)]*$|^.{100,}[\"”»]$")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_OUTSIDE_LEAD = frozenset({"nav", "footer", "aside", "a", "h1", "head"})  # a lead is in none of these
MAX_NAMED_LEADS = 50
_LEAD_BLOCKS = ("p", "div", "section", "header", "td", "li", "blockquote", "h2", "h3", "h4")
_INLINE = {"a", "span", "b", "strong", "em", "i", "u", "font", "small", "big", "abbr", "cite", "mark", "sup", "sub"}
_DATE_CUE = re.compile(r"date|datum|fecha|time|publish|posted|byline", re.IGNORECASE)
_BLOCKS = ("p", "div", "td", "li", "blockquote", "dd", "section", "article")


@dataclass(frozen=True)
class Page:
    text: str  # the main text, one paragraph a line, without headings
    title: str | None  # the story's title, without the site's name; None when the page offers only labels
    published: datetime | None  # UTC, aware; midnight UTC when only the day is known
    site_name: str | None = None
    author: str | None = None
    url: str | None = None  # the address the page's metadata gives for itself (og:url), as written


def decode(raw: bytes, content_type: str | None = None) -> str:
    """The page's text, in the character set the HTTP header, a BOM or a <meta> names, else the one detected.

    Bytes that read as UTF-8 with a character beyond ASCII are UTF-8 whatever is declared (a server's default
    ISO-8859-1 header, a template's stale <meta>): text in another character set almost never forms valid
    UTF-8 sequences, so the declaration is what is wrong."""
    declared = _declared_charsets(raw, content_type)
    if not any(name.lower().replace("_", "-").startswith("utf-16") for name in declared) and not raw.isascii():
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 4:  # a character cut by the size cap, at the very end
                return raw.decode("utf-8-sig", errors="replace")
    for name in declared:
        try:
            return raw.decode(_codec(name))
        except LookupError:
            continue
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 4:  # a character cut by the size cap, at the very end
                return raw.decode(_codec(name), errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:
            return raw.decode("utf-8", errors="replace")
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    return raw.decode(best.encoding if best else "windows-1252", errors="replace")


def _declared_charsets(raw: bytes, content_type: str | None) -> list[str]:
    names = []
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        names.append(match.group(1))
    for bom, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            names.append(name)
    if match := _META_CHARSET.search(raw[:20_000]):
        names.append(match.group(1).decode("ascii", "ignore"))
    return names


def _binary(raw: bytes, content_type: str | None) -> bool:
    """An image, an archive, a PDF: NUL bytes, which no text in an 8-bit or UTF-8 character set holds."""
    return b"\x00" in raw[:4096] and not any(name.lower().replace("_", "-").startswith("utf-16")
                                             for name in _declared_charsets(raw, content_type))


def _codec(name: str) -> str:
    # Browsers read "iso-8859-1" and "ascii" as windows-1252 (the WHATWG encoding standard); so do we.
    lowered = name.lower().strip()
    return "windows-1252" if lowered in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii") else lowered


def read_page(html: bytes | str, *, url: str | None = None, content_type: str | None = None,
              max_bytes: int = MAX_HTML_BYTES) -> Page:
    """The story of a page. Text may be empty (a script-only shell, a cookie wall): callers decide."""
    import lxml.html
    from trafilatura import bare_extraction

    raw = html.encode("utf-8") if isinstance(html, str) else html
    if _binary(raw, content_type):
        return Page(text="", title=None, published=None)
    script_dates: list[str] = []
    lean = _HIDDEN.sub(lambda match: _keep_json_ld(match, script_dates), raw)[:max_bytes]
    # Text is decoded already: whatever its <meta charset> says, it is read as it is.
    markup = lean.decode("utf-8", "replace") if isinstance(html, str) else decode(lean, content_type)
    markup = _XML_DECLARATION.sub("", markup)
    try:
        tree = lxml.html.document_fromstring(markup, parser=_parser())
    except (ValueError, lxml.etree.ParserError):
        return Page(text="", title=None, published=None)
    found = _metadata(tree)
    _repair_inline(tree)
    lead = _lead(tree, found["descriptions"], titles=found["og"] + found["h1"] + found["title"])
    # No extensive date search: it guesses from prose ("in 2015" became 1 January 2015) and costs seconds
    # of dateparser start-up. Metadata, <time>, JSON-LD and the URL still give the date: the publication's
    # (original_date), not the last change's, and none after today (a page's clock can be wrong).
    # Comments are taken apart (and not read): left in, trafilatura prunes every element whose class opens
    # with "comment", the article too when its wrapper is a "comments-enabled" <div>.
    document = bare_extraction(tree, url=url, with_metadata=True, include_comments=True, include_tables=True,
                               date_extraction_params=_date_params())
    if document is None:
        return Page(text="", title=page_title(found, url), published=None)
    found["trafilatura"] = [document.title] if document.title else []
    # The main text's own headings: "Story | Blog name" in <title> beside a heading "Story" names the story.
    found["headings"] = [" ".join(_text_of(head).split()) for head in document.body.iter("head")][:5] \
        if document.body is not None else []
    if _plausible_site_name(document.sitename, found):
        found["site_names"].append(document.sitename)
    return Page(text=_with_lead(_body_text(document.body), lead), title=page_title(found, url),
                published=_parse_date(document.date) or _script_date(script_dates),
                site_name=_clean(document.sitename), author=_clean(document.author), url=document.url)


def _date_params() -> dict:
    today = datetime.now(UTC).date().isoformat()
    return {"outputformat": _DATE_FORMAT, "extensive_search": False, "original_date": True, "max_date": today}


def _plausible_site_name(name: str | None, found: dict) -> bool:
    """trafilatura guesses a site's name from the <title> when the page declares none, and may take the story
    for it ("Story? | Site" gives "Story?"): a name of many words, or one that is a title of the page, is not."""
    if not name or len(name.split()) > 5:
        return False
    letters = _letters(name)
    return not any(_letters(title) == letters for title in found["og"] + found["h1"])


def _letters(text: str) -> str:
    return "".join(re.findall(r"[^\W_]+", text.casefold()))


def _parser():
    """lxml's HTML parser without comments and processing instructions: trafilatura drops such a node with
    the text after it, so "half a sentence<!-- ad --> and the rest" would lose the rest. A new one each
    time: lxml's parsers may not be shared between threads, and pages are read on several."""
    import lxml.html

    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True)


def _keep_json_ld(match: re.Match[bytes], dates: list[str]) -> bytes:
    """JSON-LD stays for its metadata; another script goes, and leaves the first publication date it names
    ({"datePublished": "2024-03-12T10:00:00Z"} in a page's data), which trafilatura would have read in it."""
    if b"ld+json" in match.group(2).lower():
        return match.group(0)
    if not dates and (found := _SCRIPT_DATE.search(match.group(0), 0, SCRIPT_DATE_SEARCH_BYTES)):
        dates.append(found.group(1).decode("ascii"))
    return b" "


def _metadata(tree) -> dict:
    """What the page says its story is called, and what its site, sections and menus are called."""
    def meta(*names: str) -> list[str]:
        values = []
        for name in names:
            values += tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
        return [" ".join(value.split()) for value in values if value.strip()]

    json_ld_titles, json_ld_sites, json_ld_descriptions = [], [], []
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in _json_ld_items(data):
            if isinstance(item.get("headline"), str):
                json_ld_titles.append(item["headline"])
            if isinstance(item.get("headline"), str) and isinstance(item.get("description"), str):  # an article's
                json_ld_descriptions.append(" ".join(item["description"].split()))
            publisher = item.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                json_ld_sites.append(publisher["name"])
            if item.get("@type") in ("WebSite", "Organization") and isinstance(item.get("name"), str):
                json_ld_sites.append(item["name"])
    titles = tree.xpath("//title")
    page_url = (meta("og:url") or [""])[0]
    links = []
    for anchor in tree.xpath("//a[@href][not(ancestor::h1)]"):  # a linked <h1> is still the story's title
        text = " ".join(anchor.text_content().split())
        if text and len(text) <= 80:
            links.append((text, anchor.get("href")))
    return {
        "og": meta("og:title", "twitter:title") + json_ld_titles,
        # An <h1> in a header, menu or sidebar names the site or the menu, not the story.
        "h1": [" ".join(h1.text_content().split()) for h1 in tree.xpath("//h1")
               if not h1.xpath("ancestor::nav|ancestor::header|ancestor::footer|ancestor::aside")],
        "title": [" ".join(titles[0].text_content().split())] if titles else [],
        "site_names": meta("og:site_name", "application-name", "apple-mobile-web-app-title") + json_ld_sites,
        "generator": meta("generator"),
        "descriptions": meta("og:description", "description", "twitter:description") + json_ld_descriptions,
        "links": links,
        "url": page_url,
    }


def _lead(tree, descriptions: list[str], *, titles: list[str]) -> str | None:
    """The story's lead (standfirst) as the page shows it: the block whose text is the page's own description.

    News sites set the lead apart from the body (a teaser, an "abstract" or "intro" block beside the
    headline) and trafilatura often leaves it out, with the story's first and best sentences. The page's
    description names it: a visible block (not a menu, footer, sidebar, link or the headline) that says the
    description, and little else, in sentences, is the lead. A description of a site or an author is not one:
    only the article's own (meta, or JSON-LD beside its headline) is looked for."""
    for description in dict.fromkeys(descriptions):
        whole = _comparable(description.rstrip(".…").rstrip() if description.endswith(("...", "…")) else description)
        if len(whole) < LEAD_MIN_CHARS:
            continue
        probe = " ".join(description.split()[:4])
        for node in tree.xpath("//body//text()[contains(normalize-space(.), $probe)]"
                               "[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::nav "
                               "or ancestor::footer or ancestor::aside or ancestor::a or ancestor::button or ancestor::h1)]",
                               probe=probe)[:20]:
            block = node.getparent()
            while block is not None and block.tag not in _LEAD_BLOCKS:
                block = block.getparent()
            if block is None:
                continue
            text = " ".join(_prose_of(block).split())
            if whole in _comparable(text) and len(text) <= 2 * len(description) + 100 and _LEAD_END.search(text) \
                    and not any(_comparable(text) in _comparable(title) for title in titles):
                return text
    return _named_lead(tree, titles)


def _named_lead(tree, titles: list[str]) -> str | None:
    """A block the page names as its lead (class "lead", "intro", "standfirst", "chapo", "entradilla"...),
    when it is the only one: several are a list of other stories' teasers. At most MAX_NAMED_LEADS such
    blocks are read, so a hostile page of thousands costs no more than a real one."""
    texts: list[str] = []
    named = (element for element in tree.iter(*_LEAD_BLOCKS) if _LEAD_CLASS.search(element.get("class") or ""))
    for seen, block in enumerate(named):
        if seen >= MAX_NAMED_LEADS or len(texts) > 1:
            return None
        if any(ancestor.tag in _OUTSIDE_LEAD for ancestor in block.iterancestors()):
            continue
        text = " ".join(_prose_of(block).split())
        if LEAD_MIN_CHARS <= len(text) <= LEAD_MAX_CHARS and _LEAD_END.search(text) \
                and not any(_comparable(text) in _comparable(title) for title in titles) \
                and _link_chars(block) <= len(text) // 5 and text not in texts:
            texts.append(text)
    return texts[0] if len(texts) == 1 else None


def _prose_of(element) -> str:
    """The element's text without its headings (a teaser box's title is not its lead), blocks kept apart."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _HEADINGS:
            parts += [" ", _prose_of(child), " "]
        parts.append(child.tail or "")
    return "".join(parts)


def _link_chars(element) -> int:
    return sum(len(" ".join(link.text_content().split())) for link in element.iter("a"))


def _with_lead(text: str, lead: str | None) -> str:
    """The lead first, unless the main text holds it already (all of it, or its opening)."""
    if not lead or not text:
        return text
    body = _comparable(text)
    if _comparable(lead) in body or _comparable(lead[:LEAD_MIN_CHARS]) in body:
        return text
    return f"{lead}\n{text}"


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _json_ld_items(data) -> list[dict]:
    items = data if isinstance(data, list) else [data]
    found = []
    for item in items[:50]:
        if isinstance(item, dict):
            found.append(item)
            if isinstance(item.get("@graph"), list):
                found += [part for part in item["@graph"][:50] if isinstance(part, dict)]
    return found


def _repair_inline(tree) -> None:
    """Unwraps links and inline markup inside prose, and joins drop caps to their word.

    trafilatura judges elements one by one: a link or a styled initial letter can go while the sentence
    around it stays ("a lead in the state, but , notably", "urkey, Poland"). Lists of bare links (menus)
    keep their <a>, so link density still tells navigation from prose.
    """

    for element in list(tree.iter("img")):
        alt = (element.get("alt") or "").strip()
        if len(alt) == 1 and alt.isalpha() and alt.isupper() and _opens_lowercase(element.tail):
            _replace_with_text(element, alt)
    for element in list(tree.iter(*_INLINE, "div")):
        text = element.text_content().strip()
        if len(text) == 1 and text.isalpha() and text.isupper() and _next_text_opens_word(element):
            _replace_with_text(element, text)
    for block in [element for element in tree.iter(*_BLOCKS) if _own_text_chars(element) >= 40]:
        for child in list(block):
            if child.tag in _INLINE and child.getparent() is block and not _holds_date(child):
                for inner in reversed(list(child.iterdescendants(*_INLINE))):  # the innermost first
                    _unwrap(inner)
                _unwrap(child)


def _unwrap(element) -> None:
    """The element's text joins its neighbours', with a space where one sentence ends and the next begins:
    "<strong>Now online!</strong><a>Register here.</a>" reads as two sentences, as a browser shows them."""
    previous, parent = element.getprevious(), element.getparent()
    before = (previous.tail if previous is not None else parent.text) or ""
    if _glued(before, element.text or ""):
        element.text = " " + element.text
    if _glued(element.text_content(), element.tail or ""):
        element.tail = " " + element.tail
    element.drop_tag()


def _glued(before: str, after: str) -> bool:
    return after[:1].isupper() and before[-1:] in ".!?…" and before[-2:-1].isalpha()


def _holds_date(element) -> bool:
    """Markup the date reader looks for stays: an element named for a date (class, id or itemprop: "date",
    "published", "time"...), or a <small>, <abbr> or <time> with a number in it."""
    for part in element.iter():
        if not isinstance(part.tag, str):
            continue
        if any(_DATE_CUE.search(part.get(name) or "") for name in ("class", "id", "itemprop")) \
                or part.get("datetime") is not None \
                or (part.tag in ("small", "abbr", "time") and any(ch.isdigit() for ch in
                                                                  part.text_content() + (part.get("title") or ""))):
            return True
    return False


def _own_text_chars(element) -> int:
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return len("".join(parts).strip())


def _opens_lowercase(text: str | None) -> bool:
    return bool(text) and text[:1].islower()


def _next_text_opens_word(element) -> bool:
    if element.tail and element.tail.strip():
        return _opens_lowercase(element.tail)
    following = element.getnext()
    if following is not None and following.tag in ("p", "span", "div"):
        return _opens_lowercase((following.text or "").lstrip() or None) and not (following.text or " ")[0].isspace()
    return False


def _replace_with_text(element, letter: str) -> None:
    """The letter goes in front of the text it begins, the element itself away."""
    tail = element.tail or ""
    following = element.getnext()
    if not tail.strip() and following is not None and following.tag in ("p", "span", "div"):
        following.text = letter + (following.text or "")
        letter = ""
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    addition = letter + tail
    if previous is not None:
        previous.tail = (previous.tail or "") + addition
    else:
        parent.text = (parent.text or "") + addition
    parent.remove(element)


_LINES = ("p", "item", "li", "quote", "head", "code")  # each a line of its own in trafilatura's tree (a stray <li> too)
_CONTAINERS = ("list", "table", "div")  # hold lines, are none
_SPACED = {"lb", "row", "cell", *_LINES, *_CONTAINERS}  # words on either side are apart


def _body_text(body) -> str:
    """The text of trafilatura's tree: one heading, paragraph, list item, quote, code block or table row a line.

    Text between those elements belongs too: trafilatura keeps a paragraph the page wrote without <p>
    (the words after a <figure>, say) as loose text beside them, and it reads as a line of its own."""
    if body is None:
        return ""
    lines: list[str] = []
    _walk(body, lines)
    return "\n".join(lines)


def _walk(container, lines: list[str]) -> None:
    loose = [container.text or ""]  # text outside any line, up to the next line

    def flush() -> None:
        _add_line("".join(loose), lines)
        loose.clear()

    for child in container:
        if child.tag in _LINES and any(part.tag in _LINES or part.tag in _CONTAINERS for part in child):
            flush()  # a quote of paragraphs or list items (<blockquote><li>...): each is a line of its own
            _walk(child, lines)
        elif child.tag in _LINES or child.tag == "row":
            flush()
            if child.tag == "row":
                cells = [" ".join(_text_of(cell).split()) for cell in child.iter("cell")]
                _add_line(" | ".join(cell for cell in cells if cell), lines)
            else:
                _add_line(_text_of(child), lines)
        elif child.tag in _CONTAINERS:
            flush()
            _walk(child, lines)
        elif child.tag == "lb":
            loose.append(" ")
        else:  # inline: <hi>, <ref>, <del>...
            loose.append(_text_of(child))
        loose.append(child.tail or "")
    flush()


def _add_line(text: str, lines: list[str]) -> None:
    # Composed characters (NFC): a page may write "ê" as "e" and a combining accent, which splits words for
    # the sentence splitter and the model, and shows as two glyphs in some fonts.
    text = SERVER_WARNING.sub(" ", " ".join(unicodedata.normalize("NFC", text).split())).strip()
    if text and not _SEE_ALSO.match(text) and not _addresses_the_reader(text):
        lines.append(text)


def _addresses_the_reader(line: str) -> bool:
    return ((len(line) <= APPEAL_MAX_CHARS and _APPEAL.search(line) is not None)
            or (len(line) <= CREDIT_MAX_CHARS and _CREDIT.match(line) is not None)
            or (len(line) <= RIGHTS_MAX_CHARS and "©" in line)
            or (len(line) <= BARE_RIGHTS_MAX_CHARS and _RIGHTS.search(line) is not None))


def _text_of(element) -> str:
    """All text under an element, a line break (<lb/>) or a paragraph inside it (trafilatura makes each line of
    a table cell a <p>) read as a space: "A<lb/>B" and "<cell>A<p>B</p></cell>" are two words, not one."""
    parts = [element.text or ""]
    for child in element:
        parts += [" ", _text_of(child), " "] if child.tag in _SPACED else [_text_of(child)]
        parts.append(child.tail or "")
    return "".join(parts)


def _script_date(dates: list[str]) -> datetime | None:
    """The date a script's data names, when it is a real day no later than today."""
    parsed = _parse_date(dates[0].replace(" ", "T", 1)) if dates else None
    return parsed if parsed and EARLIEST_DATE <= parsed.date() <= datetime.now(UTC).date() else None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            log.debug("unreadable page date %r", value)
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _clean(value: str | None) -> str | None:
    return " ".join(value.split())[:500] or None if value else None
