"""Replies that several parts send alike (the command service and each adapter): one text, one translation."""

from __future__ import annotations

from bot.i18n.catalogs import lazy

SOMETHING_WENT_WRONG = lazy("Sorry, something went wrong on my side. Please try again in a minute.")
# {seconds}: how long the command waited for the lock, written as `f"{waited_s:g}"`.
DATABASE_BUSY = lazy("The database is busy (it stayed locked for {seconds} s). Nothing was changed; "
                     "please try again in a minute.")
# {commands}: those everyone may use, "/summary, /digest and /alerts".
ADMINS_ONLY = lazy("Only the admins of this chat can change its sources, alerts and schedule. "
                   "Everyone can use {commands}.")
CHAT_BUSY = lazy("I'm busy with this chat's earlier commands: {waiting} are waiting, and a chat can have up to "
                 "{limit} at a time. I skipped this one (and skip any more until I have answered); send it again "
                 "then.")
# The /language command: {language} is a name from bot.i18n.languages.language_name, {languages} a language_list().
LANGUAGE_CURRENT = lazy("This chat is in {language}. I can write in: {languages}. Change it with /language "
                        "<name or code>; /language auto goes back to the default.")
LANGUAGE_SET = lazy("From now on I write in {language} here.")
# The default in a private chat: the language the person's app is set to.
LANGUAGE_FOLLOWS_YOU = lazy("From now on I write in the language your app is set to.")
# The default in a group or channel.
LANGUAGE_DEFAULT = lazy("From now on I write in English here, until an admin sets a language with /language.")
