"""What /language <choice> asks for: a supported language, or "auto" (follow each person again)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n.catalogs import Translator
from bot.i18n.languages import SUPPORTED, english_name, language_name, negotiate

AUTO = "auto"
SHOWN_CHARS = 40  # of a refused choice, said back


@dataclass(frozen=True)
class LanguageChoice:
    """`code` None: the chat follows each person's own language again (what /language auto asks)."""

    code: str | None


class UnknownLanguage(ValueError):
    """Not a language the bot speaks; `message(translator)` says so and lists those it does."""

    def __init__(self, given: str) -> None:
        super().__init__(f"not a supported language: {given!r}")
        self.given = given if len(given) <= SHOWN_CHARS else given[:SHOWN_CHARS - 1] + "…"

    def message(self, tr: Translator) -> str:
        return tr.gettext("I can't write in {language} yet. I can write in: {languages}. /language auto goes "
                          "back to the default.", language=self.given, languages=language_list())


def parse_language_choice(text: str) -> LanguageChoice:
    """A code or tag ("de", "pt-BR"), a language's own name or English name ("Deutsch", "german",
    "Русский"), or "auto". Raises UnknownLanguage for anything else, an empty text included."""
    given = " ".join(text.split())
    if given.casefold() == AUTO:
        return LanguageChoice(None)
    by_name = {name.casefold(): code for code in SUPPORTED for name in (language_name(code), english_name(code))}
    code = by_name.get(given.casefold()) or negotiate(given)
    if code is None:
        raise UnknownLanguage(given)
    return LanguageChoice(code)


def language_list() -> str:
    """"Deutsch (de), English (en), Español (es), ...": what to choose from, each in its own words."""
    return ", ".join(f"{language_name(code)} ({code})" for code in sorted(SUPPORTED))
