"""Button presses: Telegram's callback queries, handed to the action service, answered and shown.

Every query is answered with answerCallbackQuery (the toast), whatever happened: until it is, the app
shows the person a spinner on the button. When the press changed what the message should show, the
message is edited in place: its text and keyboard (a listing shown again) or its keyboard alone.
A press is checked by the service (bot/services/actions.py), not here: the callback data is outside
input, and only a token the service minted for this very chat does anything.

A press that asks for text ("Add a feed") gets the service's prompt sent with a ForceReply: the app
opens a reply to it, and the reply is read as the command the prompt stands for (handlers.py). In a
group the prompt mentions the presser, as `selective` asks only the people a message mentions (its
reply goes to the bot's own message, whose sender is the bot): the others' apps stay as they are.
A channel cannot ask (a post there has no reply box, and the bot's posts are the channel's): the
toast says what to send instead.
"""

from __future__ import annotations

import html
import logging

from telegram import (CallbackQuery, ForceReply, LinkPreviewOptions, MaybeInaccessibleMessage, ReplyParameters,
                      Update, User)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.admin import AdminCheck
from bot.adapters.telegram.handlers import chat_kind, chat_ref
from bot.adapters.telegram.platform import PLATFORM
from bot.adapters.telegram.render import render_message
from bot.adapters.telegram.sender import keyboard
from bot.domain.models import ChatRef
from bot.i18n import chat_language, lazy, translator
from bot.services.actions import ActionService, Ask, PressResult
from bot.services.pending import ChatBusy

log = logging.getLogger(__name__)

NOT_HERE = lazy("These buttons work only in the chat where the bot posted them.")
UNAVAILABLE = lazy("Buttons are not available right now; please send the command instead.")
TYPE_IN_CHANNEL = lazy("In a channel, send {usage} instead.")
BUSY = lazy("I'm busy with this chat's earlier commands. Nothing was changed; please tap again in a minute.")
_NOT_MODIFIED = "message is not modified"


def press_chat_ref(message: MaybeInaccessibleMessage) -> ChatRef:
    """The chat (and forum topic) of the pressed message; an old message the bot can no longer read
    tells only its chat."""
    if message.is_accessible:
        return chat_ref(message)
    return ChatRef(platform=PLATFORM.name, chat_id=str(message.chat.id))


class ButtonPresses:
    """The one callback for callback queries."""

    def __init__(self, *, actions: ActionService | None, admin: AdminCheck) -> None:
        self.actions = actions
        self.admin = admin

    async def on_callback_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None:  # a button under an inline message: not one the bot posted in a chat
            await answer(query, _in_presser_language(query, NOT_HERE))
            return
        if self.actions is None:
            await answer(query, _in_presser_language(query, UNAVAILABLE))
            return

        async def presser_is_admin() -> bool:
            return await self.admin.presser_is_admin(message.chat, query.from_user)

        result = await self.actions.press(press_chat_ref(message), query.data or "",
                                          presser_is_admin=presser_is_admin, chat_kind=chat_kind(message.chat),
                                          presser_locale=query.from_user.language_code if query.from_user else None)
        in_channel = message.chat.type == ChatType.CHANNEL
        if result.ask is not None and in_channel:
            await answer(query, _in_presser_language(query, TYPE_IN_CHANNEL, usage=result.ask.usage))
            return
        await answer(query, result.toast)
        if result.edits:
            await edit(query, message, result)
        if result.ask is not None:
            await ask(query, message, result.ask)

    async def busy(self, update: Update, busy: ChatBusy) -> None:
        """The chat has too many updates waiting: the press is refused, and still answered."""
        if update.callback_query is not None:
            await answer(update.callback_query, _in_presser_language(update.callback_query, BUSY))


def _in_presser_language(query: CallbackQuery, toast: str, **values: object) -> str:
    """A toast the action service does not write: in the presser's own language in a private chat."""
    message = query.message
    kind = chat_kind(message.chat) if message is not None else "group"
    return translator(chat_language(kind, None, query.from_user.language_code if query.from_user else None)) \
        .gettext(toast, **values)


def prompt_html(prompt: Ask, presser: User | None, *, private: bool) -> str:
    """The prompt's text; in a group its first line mentions the presser (handlers.py reads the last)."""
    text = html.escape(prompt.prompt, quote=False)
    if private or presser is None:
        return text
    name = html.escape(presser.full_name or "you", quote=False)
    return f'<a href="tg://user?id={presser.id}">{name}</a>\n{text}'


async def ask(query: CallbackQuery, message: MaybeInaccessibleMessage, prompt: Ask) -> None:
    """Send the prompt as a reply to the pressed message, with a ForceReply for the presser alone."""
    chat = press_chat_ref(message)
    private = message.chat.type == ChatType.PRIVATE
    try:
        await query.get_bot().send_message(
            chat_id=message.chat.id, text=prompt_html(prompt, query.from_user, private=private),
            parse_mode=ParseMode.HTML, message_thread_id=int(chat.thread_id) if chat.thread_id else None,
            reply_markup=ForceReply(selective=True, input_field_placeholder=prompt.placeholder),
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True))
    except TelegramError as exc:
        log.warning("could not ask for text in chat %s: %s", message.chat.id, exc)


async def answer(query: CallbackQuery, toast: str) -> None:
    try:
        await query.answer(toast or None)
    except TelegramError as exc:  # too late (Telegram waits a few seconds) or already answered
        log.warning("could not answer a button press: %s", exc)


async def edit(query: CallbackQuery, message: MaybeInaccessibleMessage, result: PressResult) -> None:
    """Show the press's outcome on the message itself: the listing again when it fits the one message
    (a listing long enough to be sent in parts keeps its text), and the new keyboard (none: removed)."""
    bot = query.get_bot()
    markup = keyboard(result.buttons or ())
    parts = render_message(result.message) if result.message is not None else []
    try:
        if len(parts) == 1:
            await bot.edit_message_text(parts[0].html, chat_id=message.chat.id, message_id=message.message_id,
                                        parse_mode=ParseMode.HTML, reply_markup=markup,
                                        link_preview_options=LinkPreviewOptions(is_disabled=True))
        else:
            await bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=message.message_id,
                                                reply_markup=markup)
    except BadRequest as exc:
        if _NOT_MODIFIED not in exc.message.lower():  # a double tap may edit to what is shown already
            log.warning("could not update the message whose button was pressed in chat %s: %s",
                        message.chat.id, exc)
    except TelegramError as exc:
        log.warning("could not update the message whose button was pressed in chat %s: %s", message.chat.id, exc)
