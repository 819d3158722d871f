"""Files people share with a command (an OPML feed list), downloaded from Slack with the bot token.

The token goes only to the Slack host the Web API client talks to (or one of its subdomains, as
files.slack.com is to slack.com), and a file is read only up to a cap.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import lazy
from bot.services.chat_io import Attachment

MAX_FILE_BYTES = 1_000_000


class FileProblem(Exception):
    """A file that could not be used; the message is meant for the person who shared it."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default_port


def same_service(url: str, base_url: str) -> bool:
    """Is `url` on the API's host (or a subdomain of it), same scheme and port?"""
    scheme, host, port = _origin(url)
    base_scheme, base_host, base_port = _origin(base_url)
    return (bool(host) and scheme == base_scheme and port == base_port
            and (host == base_host or host.endswith("." + base_host)))


class FileDownloader:
    def __init__(self, client: AsyncWebClient, *, max_bytes: int = MAX_FILE_BYTES, timeout_s: float = 20) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def download(self, file: dict[str, Any]) -> Attachment:
        """The shared file's content; raises FileProblem with a message for the sender."""
        if not file.get("url_private") or file.get("file_access") == "check_file_info":
            file = await self._info(file.get("id"))
        name = file.get("name") or file.get("title") or "file"
        size = file.get("size")
        if isinstance(size, int) and size > self.max_bytes:
            raise FileProblem(self._too_big(size))
        url = file.get("url_private_download") or file.get("url_private")
        if not url or not same_service(url, self.client.base_url):
            raise FileProblem(lazy("I can only read files stored in this Slack workspace."))
        return Attachment(filename=name, content=await self._fetch(url))

    async def _info(self, file_id: str | None) -> dict[str, Any]:
        if not file_id:
            raise FileProblem(lazy("Slack did not tell me which file you shared. Please share it again."))
        try:
            response = await self.client.files_info(file=file_id)
        except SlackApiError as exc:
            raise FileProblem(lazy("I could not open that file ({error}); the app needs the files:read scope.",
                                   error=exc.response.get("error", "error"))) from exc
        return response["file"]

    async def _fetch(self, url: str) -> bytes:
        headers = {"Authorization": f"Bearer {self.client.token}"}  # aiohttp drops it on a cross-origin redirect
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.get(url, headers=headers) as response:
                if response.status != 200:
                    raise FileProblem(lazy("Slack would not give me that file (HTTP {status}).",
                                           status=response.status))
                if response.content_type == "text/html":
                    # What Slack serves instead of the file when the token may not read it.
                    raise FileProblem(lazy("Slack sent a sign-in page instead of the file; the app needs the "
                                           "files:read scope."))
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise FileProblem(self._too_big(None))
                return bytes(data)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise FileProblem(lazy("I could not download that file from Slack. Please try again.")) from exc

    def _too_big(self, size: int | None) -> str:
        if size:
            return lazy("That file is {size} bytes; I import files up to {limit} bytes.", size=size,
                        limit=self.max_bytes)
        return lazy("That file is too big; I import files up to {limit} bytes.", limit=self.max_bytes)
