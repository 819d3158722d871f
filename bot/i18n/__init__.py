"""What a person reads, in their language: gettext catalogs (Babel), the language of each chat, and
dates written the way that language writes them.

Pure like bot.domain (Babel and the package's own .po files, nothing else), so the domain may use it:

    tr = translator(chat_language(chat.kind, chat.language, incoming.locale))
    tr.gettext("Alert for {query} removed.", query=shown)
    tr.ngettext("{n} more story not shown", "{n} more stories not shown", left)
    tr.gettext(SOMETHING_WENT_WRONG)         # a lazy() constant, marked where it is defined
"""

from bot.i18n.catalogs import LazyText, Translator, lazy, translator
from bot.i18n.choice import LanguageChoice, UnknownLanguage, language_list, parse_language_choice
from bot.i18n.languages import DEFAULT_LANGUAGE, SUPPORTED, language_name, negotiate
from bot.i18n.resolution import chat_language

__all__ = ["DEFAULT_LANGUAGE", "SUPPORTED", "LanguageChoice", "LazyText", "Translator", "UnknownLanguage",
           "chat_language", "language_list", "language_name", "lazy", "negotiate", "parse_language_choice",
           "translator"]
