"""Recognising the same story twice: one spelling per URL, one fingerprint per text. Pure functions.

`canonical_url` folds what differs between links to the same article (case of scheme and
host, default ports, fragments, tracking parameters, query order, a trailing slash, Unicode
host names). `content_fingerprint` hashes the normalised title and lead of a story, so the
same story arriving twice, or from two feeds under two URLs, matches.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import idna

FINGERPRINT_WORDS = 40

# Query parameters that only say where a click came from.
_TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid", "mc_eid",
    "ref", "ref_src", "ref_url", "cmpid", "cmp", "ocid", "smid", "smtyp", "sr_share", "_ga", "_gl", "_hsenc",
    "_hsmi", "__twitter_impression", "mkt_tok", "spm", "at_medium", "at_campaign", "guccounter", "soc_src",
    "soc_trk", "wt.mc_id", "oly_enc_id", "oly_anon_id", "vero_id", "rb_clickid", "s_cid", "icid", "intcmp",
    "xtor", "ncid",
})
_TRACKING_PREFIXES = ("utm_", "hsa_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAGS = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)|<[^>]*(?:>|\Z)", re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"\w+")


def canonical_url(url: str) -> str:
    """One spelling for every link to the same resource.

    >>> canonical_url("HTTPS://Example.COM:443/News/Story/?utm_source=rss&b=2&a=1#comments")
    'https://example.com/News/Story?a=1&b=2'

    Raises ValueError for something that is not an absolute URL with a host.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not scheme or not parts.hostname:
        raise ValueError(f"not an absolute URL: {url[:200]!r}")
    host = _ascii_host(parts.hostname)
    port = parts.port  # raises ValueError for a port out of range
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def content_fingerprint(title: str | None, text: str | None, *, words: int = FINGERPRINT_WORDS) -> str:
    """A 64-hex-digit hash of the title and the first `words` words of the text (HTML or
    plain), with case, accents' width forms, punctuation, markup and whitespace folded away."""
    title_words = _words(title)
    body_words = _words(text)[:words]
    basis = " ".join(title_words) + "\n" + " ".join(body_words)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _ascii_host(host: str) -> str:
    host = host.rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"invalid host name {host[:100]!r}") from exc


def _clean_query(query: str) -> str:
    """Tracking parameters dropped, the rest sorted; each pair keeps its original encoding."""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0]).strip().lower()
        if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        kept.append(pair)
    return "&".join(sorted(kept))


def _words(text: str | None) -> list[str]:
    if not text:
        return []
    plain = html.unescape(_TAGS.sub(" ", text)) if "<" in text or "&" in text else text
    return _WORD.findall(unicodedata.normalize("NFKC", plain).casefold())
