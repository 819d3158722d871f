"""The bot's neutral vocabulary, shared by services and adapters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bot.domain.actions import ButtonRows, rows_from_list, rows_to_list
from bot.domain.neutral import neutral_or_none, neutral_text

MessageKind = Literal["reply", "alert", "digest", "notice"]


@dataclass(frozen=True)
class ChatRef:
    """Where a message goes: a chat on a platform, and optionally a forum topic / thread in it."""

    platform: str
    chat_id: str
    thread_id: str | None = None


@dataclass(frozen=True)
class ChatSettings:
    """A chat as the commands see it: who it is and how it wants its digests."""

    id: int  # the database's id for the chat
    platform: str
    chat_key: str  # the platform's id for the chat
    kind: str  # "private", "group" or "channel"
    title: str | None
    timezone: str  # IANA zone: dates and the digest time are in it
    empty_digest: str  # what a day without news sends: "say" or "skip"
    digest_time: str | None = None  # "07:30" local, None without a daily digest
    digest_timezone: str | None = None  # the zone the daily digest was set in


# Messages carry outside text (titles, headlines, what people typed): each string is made neutral
# (bot.domain.neutral) as the message is built, so no adapter can show an invisible control.

@dataclass(frozen=True)
class Link:
    label: str
    url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", neutral_text(self.label))
        object.__setattr__(self, "url", neutral_text(self.url))


@dataclass(frozen=True)
class BriefItem:
    """One story as shown to people: a brief, plus every link that told it."""

    headline: str
    points: list[str]
    links: list[Link] = field(default_factory=list)
    published: date | datetime | None = None  # a date alone when only the day is known
    brief_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "headline", neutral_text(self.headline))
        object.__setattr__(self, "points", [neutral_text(point) for point in self.points])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BriefItem:
        published = data.get("published")
        return cls(
            headline=data["headline"],
            points=list(data.get("points", [])),
            links=[Link(**link) for link in data.get("links", [])],
            published=_parse_published(published) if published else None,
            brief_id=data.get("brief_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data


@dataclass(frozen=True)
class Message:
    """A platform-neutral outgoing message; each adapter renders and escapes it its own way."""

    kind: MessageKind
    heading: str | None = None
    text: str | None = None  # plain text, never markup
    items: list[BriefItem] = field(default_factory=list)
    footer: str | None = None
    timezone: str | None = None  # the chat's IANA zone: dates are shown in it (None: UTC)
    language: str | None = None  # the chat's language (bot.i18n): an adapter's own words and dates in it
    buttons: ButtonRows = ()  # rows of buttons under the message (bot.domain.actions)

    def __post_init__(self) -> None:
        for name in ("heading", "text", "footer"):
            object.__setattr__(self, name, neutral_or_none(getattr(self, name)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            kind=data["kind"],
            heading=data.get("heading"),
            text=data.get("text"),
            items=[BriefItem.from_dict(item) for item in data.get("items", [])],
            footer=data.get("footer"),
            timezone=data.get("timezone"),
            language=data.get("language"),
            buttons=rows_from_list(data.get("buttons", [])),
        )

    def to_dict(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "heading": self.heading,
            "text": self.text,
            "items": [item.to_dict() for item in self.items],
            "footer": self.footer,
            "timezone": self.timezone,
        }
        if self.language:  # payloads without a language stay as they were
            data["language"] = self.language
        if self.buttons:  # payloads without buttons stay as they were
            data["buttons"] = rows_to_list(self.buttons)
        return data


def _parse_published(text: str) -> date | datetime:
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
