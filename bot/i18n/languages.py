"""The languages the bot speaks, and the best of them for a language tag a platform reports."""

from __future__ import annotations

from babel import Locale
from babel.core import parse_locale

DEFAULT_LANGUAGE = "en"
# English is the source text; every other one has a catalog in bot/i18n/locales.
SUPPORTED = ("en", "de", "es", "fr", "pt", "ru")


def negotiate(tag: str | None) -> str | None:
    """The supported language for a tag as chat apps ("pt-br", "de-DE") or a person ("pt_BR") write it,
    or None when it names none of them. Only the language counts: Brazilian and European Portuguese
    share one catalog, and a region Babel does not know ("es-LA", Latin America) still finds Spanish."""
    if not tag or not tag.strip():
        return None
    try:
        language = parse_locale(tag.strip().replace("-", "_"))[0]
    except ValueError:  # not a language tag at all
        return None
    return language if language in SUPPORTED else None


def language_name(code: str) -> str:
    """A language's name in itself, as a menu shows it: "Deutsch", "Español", "Русский"."""
    name = Locale.parse(code).display_name or code
    return name[:1].upper() + name[1:]


def english_name(code: str) -> str:
    return Locale.parse(code).english_name or code
