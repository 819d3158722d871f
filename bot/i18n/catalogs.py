"""Translated text: one gettext catalog per language, read from its .po file once.

The .po files are the only form kept (bot/i18n/locales/<lang>/LC_MESSAGES/briefbot.po, shipped as
package data): each is compiled in memory on first use, so neither a checkout nor `pip install` needs a
build step, and no binary .mo can go stale beside its source. Message ids are the English text, with
`{name}` placeholders filled by str.format after translation, so a language may reorder them.
"""

from __future__ import annotations

import gettext
import io
import logging
import string
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.i18n.languages import DEFAULT_LANGUAGE, negotiate

log = logging.getLogger(__name__)
DOMAIN = "briefbot"
LOCALES_DIR = Path(__file__).with_name("locales")


class LazyText(str):
    """A message marked where it is defined (a module-level constant such as a command's description,
    or the text of an error raised far from any chat) and translated where it is shown:
    `translator(lang).gettext(DESCRIPTION)`. It is the English text itself (a str, so it goes wherever
    text goes), and keeps its msgid and the `values` of its placeholders for the translation."""

    msgid: str
    values: tuple[tuple[str, object], ...]

    def __new__(cls, msgid: str, values: tuple[tuple[str, object], ...] = ()) -> LazyText:
        text = super().__new__(cls, _fill(msgid, msgid, dict(values), DEFAULT_LANGUAGE) if values else msgid)
        text.msgid, text.values = msgid, values
        return text


def lazy(msgid: str, /, **values: object) -> LazyText:
    """Mark a message for extraction (keyword `lazy` in pyproject's [tool.babel]) without translating it
    yet; `values` are kept for its placeholders (`lazy("{url} is not a feed", url=url)`)."""
    return LazyText(msgid, tuple(values.items()))


class Translator:
    """gettext and ngettext for one language; a missing or untranslated message falls back to English."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def gettext(self, message: str | LazyText, /, **values: object) -> str:
        if isinstance(message, LazyText):
            msgid, values = message.msgid, {**dict(message.values), **values}
        else:
            msgid = message
        values = {name: self.gettext(value) if isinstance(value, LazyText) else value  # a lazy() in a lazy()
                  for name, value in values.items()}
        return _fill(self._translations.gettext(msgid), msgid, values, self.language)

    def explain(self, error: BaseException) -> str:
        """An exception's message in this language: one raised with a lazy() text is translated (and
        filled with its values), any other is said as it is."""
        message = error.args[0] if len(error.args) == 1 else None
        return self.gettext(message) if isinstance(message, LazyText) else str(error)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form for `n` in this language (Russian has three); `{n}` in the text is the number."""
        values = {"n": n, **values}
        english = singular if n == 1 else plural
        return _fill(self._translations.ngettext(singular, plural, n), english, values, self.language)

    @classmethod
    def from_po(cls, path: Path, language: str) -> Translator:
        """A translator from one .po file, compiled in memory (fuzzy and untranslated entries are left
        out, as msgfmt leaves them out)."""
        with path.open("rb") as po:
            catalog = read_po(po, locale=language, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        return cls(language, gettext.GNUTranslations(compiled))

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"


def translator(language: str | None) -> Translator:
    """The translator for a language tag ("de", "pt-BR"); English for None or a language not spoken."""
    return _translator(negotiate(language) or DEFAULT_LANGUAGE)


@cache
def _translator(language: str) -> Translator:
    if language == DEFAULT_LANGUAGE:
        return Translator(language, gettext.NullTranslations())
    return Translator.from_po(catalog_path(language), language)


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a message: a translation must keep the same set."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text)
            if field is not None}


def _number(value: object, language: str) -> object:
    """A whole number the way the language writes it (20,000 / 20.000 / 20 000); any other value as it is."""
    return format_decimal(value, locale=language) if isinstance(value, int) and not isinstance(value, bool) else value


def _fill(text: str, english: str, values: dict[str, object], language: str) -> str:
    if not values:
        return text
    values = {name: _number(value, language) for name, value in values.items()}
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation: the English still says it
        log.warning("the %s translation of %r does not fit its values; sent in English", language, english)
        return english.format(**values)
