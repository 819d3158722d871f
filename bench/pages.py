"""Briefs of real saved web pages as `/summary <url>` makes them, and the defects a reader would see.

    python -m bench.pages [--pages ../shared/pages] [--split dev|held-out|all] [--show N] [--json OUT]
                          [--ids p001.html,p002.html] [--limit N]

For each page of the folder (its `manifest.json`, see its SOURCE.md): the page goes through the bot's
own path (`bot.sources.pages.extract_page`, then the default summarizer with the bot's default length
budget), and the brief is checked for what a reader stumbles on. The checks look only at the brief, the
page's bytes and the manifest's annotations, never at how the brief was made:

- no_date: the manifest has a date for the page (trafilatura's metadata, no prose guessing), the brief none
- headline_tail: the headline still carries the site's name after or before a separator ("Story | Site")
- headline_label: no headline, or one of at most three words that is the site's name, a host name, or the
  text of a link to another page (a menu, category or section label)
- not_sentence: a point that is not a whole sentence: no closing punctuation, opens in lower case or with
  a list mark, a fragment of under four words, all capitals (a dateline), cut at an ordinal ("am 25."),
  unbalanced quotes, or a server warning ("Strict Standards: ...")
- without_snippet: a point holding a snippet the annotators marked as not part of the main text
- few_points: fewer than two points on a page whose main text is long (2,000 characters or more)
- headline_repeated: a point that repeats the headline

Extraction is scored on the annotated snippets (the corpus' own method): a `with` snippet found in the
extracted text is a true positive, one missing a false negative, a `without` snippet found a false
positive. Plain `trafilatura.extract` of the same bytes runs side by side.

The pages are split by a hash of their file name into two halves, dev and held-out; tune only on dev.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit


DEFECTS = ("no_date", "headline_tail", "headline_label", "not_sentence", "without_snippet", "few_points",
           "headline_repeated")
LONG_PAGE_CHARS = 2000
_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]+\s+|\s*[|·•»]\s*")
_CLOSING = re.compile(r"[.!?…。！？؟।]['\"”’»)\]]*$")
_LIST_MARK = re.compile(r"^\s*(?:[-–—*•·▪►]|\d+[.)]\s)")
_ORDINAL_CUT = re.compile(r"(?:^|\s)\d{1,2}\.$")
_SERVER_WARNING = re.compile(r"\b(?:Strict Standards|Deprecated|Warning|Notice|Fatal error|Parse error):"
                             r".*\bon line \d+", re.I)
_LINK_TEXT = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.I | re.S)
_HREF = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.I)
_TAG = re.compile(r"<[^>]+>")


def split_of(page: str) -> str:
    return "dev" if hashlib.sha1(page.encode()).digest()[0] % 2 == 0 else "held-out"


def normal(text: str) -> str:
    """Compared as a reader sees them: canonically equal characters (composed or not), any case, any spacing,
    without invisible format characters (a soft hyphen, a zero-width space: the bot removes them, a snippet
    may carry them)."""
    shown = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Cf")
    return " ".join(shown.casefold().split())


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def site_names(entry: dict) -> set[str]:
    """The site's name as the manifest gives it and as its host spells it ("www.helge.at" -> "helge.at", "helge")."""
    names = {normal(entry.get("sitename") or "")}
    host = (urlsplit(entry["url"]).hostname or "").removeprefix("www.")
    names |= {host, host.split(".")[0], host.rsplit(".", 2)[-2] if host.count(".") >= 1 else host}
    return {name for name in names if len(name) >= 3}


def _same_name(segment: str, names: set[str]) -> bool:
    plain = "".join(words(segment))
    return any(plain and (plain == "".join(words(name)) or normal(segment) == name) for name in names)


def headline_defects(headline: str, entry: dict, link_texts: set[str]) -> list[str]:
    found = []
    names = site_names(entry)
    segments = [part for part in _SEPARATORS.split(headline) if part.strip()]
    if len(segments) > 1 and (_same_name(segments[-1], names) or _same_name(segments[0], names)):
        found.append("headline_tail")
    if not words(headline) or (len(words(headline)) <= 3 and (_same_name(headline, names)
                                                               or normal(headline) in link_texts)):
        found.append("headline_label")
    return found


def is_whole_sentence(point: str) -> bool:
    text = point.strip()
    letters = [ch for ch in text if ch.isalpha()]
    first = next((ch for ch in text if ch.isalnum()), "")
    if len(words(text)) < 4 or not _CLOSING.search(text) or _LIST_MARK.match(text):
        return False
    if first.islower() or _ORDINAL_CUT.search(text.rstrip("'\"”’»)]")) or _SERVER_WARNING.search(text):
        return False
    if len(letters) >= 8 and all(ch.isupper() for ch in letters if ch.upper() != ch.lower()) \
            and any(ch.upper() != ch.lower() for ch in letters):
        return False
    return quotes_balanced(text)


def quotes_balanced(text: str) -> bool:
    if text.count('"') % 2 or text.count("«") != text.count("»"):
        return False
    if "„" in text:  # German: „...“ (or „...”)
        return text.count("„") == text.count("“") + text.count("”")
    return text.count("“") == text.count("”")


def point_defects(headline: str, points: list[str], entry: dict) -> list[str]:
    found = []
    if any(not is_whole_sentence(point) for point in points):
        found.append("not_sentence")
    withouts = [normal(snippet) for snippet in entry.get("without") or [] if snippet.strip()]
    if any(snippet in normal(point) for point in points for snippet in withouts):
        found.append("without_snippet")
    if len(points) < 2 and entry.get("chars", 0) >= LONG_PAGE_CHARS:
        found.append("few_points")
    head = words(headline)
    for point in points:
        said = words(point)
        if head and (said == head or (len(head) >= 4 and " ".join(head) in " ".join(said)
                                      and len(said) <= len(head) + 3)):
            found.append("headline_repeated")
            break
    return found


def link_texts_of(raw: bytes, url: str) -> set[str]:
    """Texts of the page's links to other pages (a link to the page itself, as in a list of recent posts, is
    the story's own title, not a label)."""
    page = raw.decode("utf-8", "replace")
    own = urlsplit(url).path.rstrip("/")
    texts = set()
    for attributes, inner in _LINK_TEXT.findall(page):
        href = _HREF.search(attributes)
        if href and urlsplit(urljoin(url, html.unescape(href.group(1)))).path.rstrip("/") == own:
            continue
        text = normal(html.unescape(_TAG.sub(" ", inner)))
        if text and len(text) < 60:
            texts.add(text)
    return texts


def snippet_counts(text: str, entry: dict) -> Counter:
    plain = normal(text)
    counts = Counter()
    for snippet in entry.get("with") or []:
        counts["tp" if normal(snippet) in plain else "fn"] += 1
    for snippet in entry.get("without") or []:
        counts["fp" if normal(snippet) in plain else "tn"] += 1
    return counts


def prf(counts: Counter) -> dict[str, float]:
    precision = counts["tp"] / max(counts["tp"] + counts["fp"], 1)
    recall = counts["tp"] / max(counts["tp"] + counts["fn"], 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def run(folder: Path, split: str, show: int, ids: set[str] | None = None, limit: int | None = None) -> dict:
    import trafilatura

    from bot.settings import Settings
    from bot.sources.pages import PageError, extract_page
    from summarizer import ArticleText, get_summarizer

    settings = Settings(_env_file=None)
    summarizer = get_summarizer(settings.summarizer_config())
    summarizer.backend  # load the model before timing
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entries = [entry for entry in manifest if (split == "all" or split_of(entry["page"]) == split)
               and (not ids or entry["page"] in ids)][:limit]
    defects: Counter = Counter()
    ours, plain = Counter(), Counter()
    clean = 0
    rows = []
    timings = {"ours": 0.0, "trafilatura": 0.0}
    for entry in entries:
        raw = (folder / "html" / entry["page"]).read_bytes()
        started = time.perf_counter()
        try:
            page = extract_page(raw, url=entry["url"])
            [brief] = summarizer.summarize([ArticleText(text=page.text, title=page.title, url=entry["url"],
                                                        published=page.date)])
            headline, points, published, text = brief.headline, brief.points, brief.published, page.text
        except (PageError, ValueError) as exc:
            headline, points, published, text = f"(no brief: {exc})", [], None, ""
        timings["ours"] += time.perf_counter() - started
        started = time.perf_counter()
        baseline = trafilatura.extract(raw, url=entry["url"]) or ""
        timings["trafilatura"] += time.perf_counter() - started
        ours += snippet_counts(text, entry)
        plain += snippet_counts(baseline, entry)
        found = headline_defects(headline, entry, link_texts_of(raw, entry["url"])) + point_defects(headline, points, entry)
        if entry.get("date") and not published:
            found.insert(0, "no_date")
        defects.update(found)
        clean += not found
        rows.append({"page": entry["page"], "headline": headline, "points": points,
                     "published": str(published) if published else None, "defects": found})
    for row in rows[:show] if show >= 0 else rows:
        print(f"\n{row['page']}  [{', '.join(row['defects']) or 'ok'}]  {row['published'] or '-'}")
        print(f"  # {row['headline']}")
        for point in row["points"]:
            print(f"  - {point}")
    return {"split": split, "pages": len(entries), "defect_free": clean, "defects": dict(defects),
            "extraction": {"ours": prf(ours), "trafilatura": prf(plain)},
            "seconds": timings, "rows": rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "pages")
    parser.add_argument("--split", choices=("dev", "held-out", "all"), default="dev")
    parser.add_argument("--show", type=int, default=0, help="print this many briefs (-1: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results, briefs included, here")
    parser.add_argument("--ids", default="", help="only these pages of the split (comma-separated file names)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages of the split")
    args = parser.parse_args(argv)
    ids = {name.strip() for name in args.ids.split(",") if name.strip()} or None
    result = run(args.pages, args.split, args.show, ids, args.limit)
    pages = result["pages"]
    print(f"\n{args.split}: {pages} pages, {result['defect_free']} briefs defect-free "
          f"({100 * result['defect_free'] / max(pages, 1):.1f}%)")
    print("| defect | briefs | share |\n| --- | ---: | ---: |")
    for name in DEFECTS:
        count = result["defects"].get(name, 0)
        print(f"| {name} | {count} | {100 * count / max(pages, 1):.1f}% |")
    print("\n| extraction | precision | recall | F1 | seconds |\n| --- | ---: | ---: | ---: | ---: |")
    for name, label, timing in (("ours", "briefbot page reader", "ours"), ("trafilatura", "trafilatura.extract",
                                                                             "trafilatura")):
        scores = result["extraction"][name]
        print(f"| {label} | {scores['precision']:.3f} | {scores['recall']:.3f} | {scores['f1']:.3f} | "
              f"{result['seconds'][timing]:.1f} |")
    print("\nseconds cover the whole brief for ours (read, extract, summarize), extraction alone for trafilatura")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
