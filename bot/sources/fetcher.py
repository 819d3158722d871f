"""The bot's only door to the network: a hardened async HTTP client for feeds and pages.

Every response is treated as hostile. `SafeFetcher.fetch` connects only to globally routable
addresses, checked on the address actually connected to (after the fetcher's own DNS lookup,
so DNS rebinding cannot slip through), re-checks every redirect, stops at a deadline and at a
cap on decoded bytes, checks the content type, and speaks conditional GET.

    async with SafeFetcher(timeout_s=20, max_bytes=10_000_000) as fetcher:
        result = await fetcher.fetch(url, etag=old_etag, last_modified=old_lm, kind="feed")
        if not result.not_modified:
            feed = parse_feed(result.content, url=result.url, content_type=result.content_type)

Failures raise `FetchError`, whose `reason` is a short machine code (for storage and
metrics) and whose text is a message fit for a person; URLs in messages and logs carry no
credentials or query strings.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import http.cookiejar
import ipaddress
import logging
import re
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx
import idna

from bot.sources.addresses import IPAddress, ip_literal, is_local_name, is_public_address

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["feed", "page", "any"]

DEFAULT_USER_AGENT = "briefbot/0.1 (+https://github.com/briefbot/briefbot)"
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

_ACCEPT = {
    "feed": ("application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
             "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"),
    "page": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5, */*;q=0.2",
    "any": "*/*",
}
# Media types taken at their word for each kind.
_FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/xml", "text/xml", "application/json", "application/x-rss+xml", "application/x-atom+xml",
    "application/rss", "text/rss", "text/atom", "text/rdf", "text/x-opml",
})
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
# Media types that lie often enough that the body decides (feeds served as text/html...).
_SNIFFED_FOR_FEEDS = frozenset({"", "text/html", "text/plain", "application/octet-stream",
                                "binary/octet-stream", "application/download", "application/x-download"})
_SNIFFED_FOR_PAGES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_SNIFF_BYTES = 16_384
_FEED_ROOTS = frozenset({b"rss", b"feed", b"rdf", b"channel"})
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_HTML_MARKERS = (b"<html", b"<!doctype html", b"<head", b"<body")
_HOST_CHARS = re.compile(r"^[a-z0-9_.-]+$")


class FetchError(Exception):
    """A fetch that failed; `reason` is a short machine code, `str()` a message for people.

    Reasons: bad_url, blocked_address, dns_error, connect_error, tls_error, timeout,
    protocol_error, network_error, too_many_redirects, http_<status> (http_404, http_500...),
    bad_content_type, bad_encoding, too_large. Whatever a library raises on a hostile answer becomes
    one of these (network_error when nothing fits better): never anything else.
    """

    def __init__(self, reason: str, message: str, *, url: str | None = None, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url  # redacted
        self.status = status  # the HTTP status, for http_* reasons
        self.retry_after = retry_after  # seconds the server asked us to wait (429, 503), if it said


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch. On 304 (`not_modified`), `content` is empty and the caller keeps what it had."""

    url: str  # final URL, after redirects
    status: int  # 2xx, or 304
    content: bytes  # decoded (gzip/deflate undone), at most max_bytes
    content_type: str | None  # the Content-Type header as sent, charset included
    etag: str | None  # to send back as `etag=` next time
    last_modified: str | None  # to send back as `last_modified=` next time
    not_modified: bool = False

    @property
    def media_type(self) -> str:
        return _media_type(self.content_type)


def quiet_http_libraries() -> None:
    """httpx logs every request line (full URL, query secrets included) at INFO: keep it to warnings."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def redact_url(url: object) -> str:
    """A URL fit for logs and error messages: no user, password or query string."""
    try:
        parts = urlsplit(str(url))
        netloc = parts.netloc.rpartition("@")[2].lower()  # no user or password; the port as written
        query = "…" if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))[:300]
    except ValueError:
        return "<unparseable URL>"


class AddressPolicy:
    """Which addresses a connection may use: public ones only, unless told otherwise for tests.

    `allow_private=True` lifts the rule entirely (the test-only setting ALLOW_PRIVATE_NETWORKS=1).
    `allowed_addresses` lifts it for those exact addresses only, so a test server on, say,
    127.0.0.2 is reachable while every other private address stays refused.
    """

    def __init__(self, *, allow_private: bool = False, allowed_addresses: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowed = frozenset(ipaddress.ip_address(a) for a in allowed_addresses)

    def permits(self, address: IPAddress) -> bool:
        return self.allow_private or address in self.allowed or is_public_address(address)

    def check_host(self, host: str, url: str, *, syntax: bool = True) -> None:
        """Refuse, before any lookup, hosts that name a forbidden address or this machine
        (and, with `syntax`, hosts that are not plain ASCII names)."""
        literal = ip_literal(host)
        if literal is not None:
            if not self.permits(literal):
                raise FetchError("blocked_address", f"{url}: {literal} is a private or special-use address",
                                 url=url)
            if isinstance(literal, ipaddress.IPv4Address) and host != str(literal) and not self.allow_private:
                raise FetchError("bad_url", f"{url}: unusual spelling of the address {literal}", url=url)
            return
        if syntax and not _HOST_CHARS.match(host):
            raise FetchError("bad_url", f"{url}: invalid host name", url=url)
        if is_local_name(host) and not self.allow_private:
            raise FetchError("blocked_address", f"{url}: {host} names this machine", url=url)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The permitted addresses of `host`, in the resolver's order; FetchError when there are none."""
        literal = ip_literal(host)
        if literal is not None:  # no lookup, but the same rule
            candidates = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
            except (socket.gaierror, UnicodeError) as exc:
                raise FetchError("dns_error", f"{host[:100]}: name lookup failed ({exc})") from None
            candidates = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        permitted = [str(a) for a in candidates if self.permits(a)]
        if not permitted:
            # Never name the address: the answer would turn the bot into an oracle of internal DNS.
            raise FetchError("blocked_address", f"{host} is a private or special-use address, which is not fetched")
        return permitted


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, resolving names itself and connecting only to vetted addresses.

    httpcore still starts TLS with the URL's host name, so SNI and certificate checks are unchanged.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"name lookup of {host} timed out") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise FetchError("bad_url", "unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over the guarded backend, never through a proxy."""

    def __init__(self, backend: _GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(verify=_tls_context(), trust_env=False, limits=limits)
        # httpx takes no network backend, so its connection pool is rebuilt around ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate checks against certifi's roots; built once (loading them takes a while)."""
    return httpx.create_ssl_context(trust_env=False)


class _HostSlots:
    """At most `per_host` requests in flight to one host; idle hosts are forgotten."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.get(host, (None, 0))
        if semaphore is None:
            semaphore = asyncio.Semaphore(self._per_host)
        self._slots[host] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (semaphore, users - 1)


class _BoundedDecoder:
    """Undoes gzip/deflate a bounded piece at a time, so a small bomb cannot inflate past the cap."""

    def __init__(self, coding: str, limit: int) -> None:
        self._coding = coding
        self._limit = limit
        self._total = 0
        self._decompressor = self._new()
        self._started = False

    def _new(self, raw_deflate: bool = False):  # zlib's Decompress type is not public
        if self._coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._coding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return None

    def decode(self, data: bytes) -> bytes:
        if self._decompressor is None:
            self._count(len(data))
            return data
        out = bytearray()
        while data:
            try:
                piece = self._decompressor.decompress(data, self._limit - self._total + 1)
            except zlib.error:
                if self._coding == "deflate" and not self._started:  # servers send raw deflate too
                    self._decompressor = self._new(raw_deflate=True)
                    self._started = True
                    continue
                raise
            self._started = True
            self._count(len(piece))
            out += piece
            data = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                data = self._decompressor.unused_data
                if data and self._coding == "gzip":  # concatenated gzip members
                    self._decompressor = self._new()
                else:
                    data = b""
        return bytes(out)

    def flush(self) -> bytes:
        if self._decompressor is None:
            return b""
        rest = self._decompressor.flush()
        self._count(len(rest))
        return rest

    def _count(self, size: int) -> None:
        self._total += size
        if self._total > self._limit:
            raise _TooLarge


class _TooLarge(Exception):
    pass


class SafeFetcher:
    """Fetches feeds and pages from the public web, treating every answer as hostile.

    timeout_s: total deadline of one fetch, redirects and body included (a server dripping one
        byte a second fails at it); also the read/write/pool timeout of each step.
    connect_timeout_s: deadline of name lookup plus connection (default: the smaller of 10 s and timeout_s).
    max_bytes: cap on the DECODED body; more is `too_large`.
    per_host / concurrency: requests in flight to one host / overall. Time spent waiting for
        a slot does not count towards the deadline of the first hop.
    allow_private / allowed_addresses: test-only openings, see `AddressPolicy`.

    Use one instance for the life of the process (it pools connections); close it with
    `aclose()` or `async with`.
    """

    def __init__(self, *, timeout_s: float = 20, connect_timeout_s: float | None = None,
                 max_bytes: int = 10_000_000, per_host: int = 4, concurrency: int = 64,
                 user_agent: str = DEFAULT_USER_AGENT, allow_private: bool = False,
                 allowed_addresses: Iterable[str] = ()) -> None:
        quiet_http_libraries()
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.policy = AddressPolicy(allow_private=allow_private, allowed_addresses=allowed_addresses)
        connect = connect_timeout_s if connect_timeout_s is not None else min(10.0, timeout_s)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=min(concurrency, 32))
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(_GuardedBackend(self.policy), limits),
            timeout=httpx.Timeout(timeout_s, connect=connect),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,  # followed by hand, each hop checked
            trust_env=False,  # no proxy from the environment may bypass the address check
            cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        )
        self._overall = asyncio.Semaphore(concurrency)
        self._hosts = _HostSlots(per_host)

    @classmethod
    def from_settings(cls, settings: Settings) -> SafeFetcher:
        return cls(timeout_s=settings.fetch_timeout_s, max_bytes=settings.fetch_max_bytes,
                   per_host=settings.fetch_per_host, concurrency=settings.fetch_concurrency,
                   user_agent=settings.user_agent, allow_private=settings.allow_private_networks)

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    kind: Kind = "any") -> FetchResult:
        """GET `url`, following up to MAX_REDIRECTS redirects, each one checked like the first.

        kind: "feed" or "page" sets the Accept header and the content types accepted
            (feeds served as text/html or octet-stream are accepted when their first bytes are
            a feed); "any" accepts every type.
        etag / last_modified: the values of the previous result, for a conditional GET; an
            unchanged resource then answers 304 and the result has not_modified=True.
        Raises FetchError.
        """
        current = self._checked_url(url)
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cookies = httpx.Cookies()  # lives for this fetch's redirect chain only
        loop = asyncio.get_running_loop()
        async with self._overall:
            try:
                async with asyncio.timeout(None) as deadline:
                    for _ in range(MAX_REDIRECTS + 1):
                        async with self._hosts.hold(current.host):
                            if deadline.when() is None:
                                deadline.reschedule(loop.time() + self.timeout_s)
                            request = self._client.build_request("GET", current, headers=headers)
                            cookies.set_cookie_header(request)
                            try:
                                response = await self._client.send(request, stream=True)
                            except (httpx.InvalidURL, UnicodeError) as exc:  # httpx builds the next hop unasked
                                raise FetchError("bad_url", f"{redact_url(current)}: redirected to an invalid "
                                                 f"address ({type(exc).__name__})", url=redact_url(current)) from None
                            try:
                                location = response.headers.get("location")
                                if response.status_code not in _REDIRECTS or not location:
                                    return await self._result(response, kind, etag, last_modified)
                                cookies.extract_cookies(response)
                                current = self._checked_url(self._join(response.url, location))
                            finally:
                                await response.aclose()
            except FetchError as exc:  # refused by the guarded backend, which knows no URL
                exc.url = exc.url or redact_url(current)
                raise
            except TimeoutError:
                raise FetchError("timeout", f"{redact_url(current)}: no complete answer within "
                                 f"{self.timeout_s:g} s", url=redact_url(current)) from None
            except httpx.HTTPError as exc:
                raise _network_error(exc, current) from None
            except Exception as exc:  # a hostile answer must never be anything but this fetch's failure
                raise _unexpected_error(exc, current) from None
        raise FetchError("too_many_redirects", f"{redact_url(url)}: more than {MAX_REDIRECTS} redirects",
                         url=redact_url(url))

    def _checked_url(self, url: str | httpx.URL) -> httpx.URL:
        shown = redact_url(url)
        try:
            # Vet the host as the standard library reads it too: URL parsers disagree on odd spellings.
            stdlib_host = urlsplit(str(url)).hostname
            if stdlib_host:
                self.policy.check_host(stdlib_host, shown, syntax=False)
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise FetchError("bad_url", f"{shown}: not a valid URL ({exc})", url=shown) from None
        if parsed.scheme not in ("http", "https"):
            raise FetchError("bad_url", f"{shown}: only http and https URLs are fetched", url=shown)
        if not parsed.raw_host:
            raise FetchError("bad_url", f"{shown}: the URL has no host", url=shown)
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise FetchError("bad_url", f"{shown}: the port {parsed.port} does not exist", url=shown)
        host = parsed.raw_host.decode("ascii").lower()
        self.policy.check_host(host, shown)
        if not _valid_punycode(host):
            raise FetchError("bad_url", f"{shown}: invalid international host name", url=shown)
        return parsed

    @staticmethod
    def _join(base: httpx.URL, location: str) -> str:
        try:
            return str(base.join(location))
        except (httpx.InvalidURL, ValueError) as exc:
            shown = redact_url(base)
            raise FetchError("bad_url", f"{shown}: redirected to an invalid URL ({exc})", url=shown) from None

    async def _result(self, response: httpx.Response, kind: Kind, etag: str | None,
                      last_modified: str | None) -> FetchResult:
        shown = redact_url(response.url)
        status = response.status_code
        new_etag = response.headers.get("etag") or etag
        new_last_modified = response.headers.get("last-modified") or last_modified
        if status == 304:
            log.debug("fetched %s: not modified", shown)
            return FetchResult(url=str(response.url), status=304, content=b"", content_type=None,
                               etag=new_etag, last_modified=new_last_modified, not_modified=True)
        if not 200 <= status < 300:
            raise FetchError(f"http_{status}", f"{shown}: the server answered {status} {response.reason_phrase}",
                             url=shown, status=status, retry_after=_retry_after(response.headers))
        content_type = response.headers.get("content-type")
        media_type = _media_type(content_type)
        sniff = _content_type_verdict(kind, media_type, shown)
        declared = response.headers.get("content-length", "")
        coding = _content_coding(response.headers, shown)
        if coding is None and declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(shown, self.max_bytes)
        content = await self._read_body(response, coding, sniff, shown)
        log.debug("fetched %s: %d, %s, %d bytes", shown, status, media_type or "no type", len(content))
        return FetchResult(url=str(response.url), status=status, content=content, content_type=content_type,
                           etag=new_etag, last_modified=new_last_modified)

    async def _read_body(self, response: httpx.Response, coding: str | None, sniff: Kind | None,
                         shown: str) -> bytes:
        decoder = _BoundedDecoder(coding or "identity", self.max_bytes)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += decoder.decode(chunk)
                if sniff and len(body) >= _SNIFF_BYTES:
                    _check_sniffed(sniff, bytes(body[:_SNIFF_BYTES]), shown)
                    sniff = None
            body += decoder.flush()
        except _TooLarge:
            raise _too_large(shown, self.max_bytes) from None
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"{shown}: the compressed body is corrupt ({exc})", url=shown) from None
        if sniff:
            _check_sniffed(sniff, bytes(body[:_SNIFF_BYTES]), shown)
        return bytes(body)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _content_type_verdict(kind: Kind, media_type: str, shown: str) -> Kind | None:
    """None when the declared type settles it; the kind to sniff the body for when it does not."""
    if kind == "any":
        return None
    if kind == "feed":
        if media_type in _FEED_TYPES or media_type.endswith(("+xml", "+json")):
            return None
        if media_type in _SNIFFED_FOR_FEEDS:
            return "feed"
    else:
        if media_type in _PAGE_TYPES:
            return None
        if media_type in _SNIFFED_FOR_PAGES:
            return "page"
    raise FetchError("bad_content_type", f"{shown}: expected a {kind}, got content of type {media_type}",
                     url=shown)


def _check_sniffed(kind: Kind, head: bytes, shown: str) -> None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if kind == "feed":
        if text.startswith(b"{"):
            return  # JSON Feed; parse_feed decides
        first = _FIRST_ELEMENT.search(text)
        if first and first.group(1).lower().rsplit(b":", 1)[-1] in _FEED_ROOTS:
            return
        what = "an HTML page" if _looks_like_html(text) else "something else"
        raise FetchError("bad_content_type", f"{shown}: expected a feed, got {what}", url=shown)
    if not _looks_like_html(text):
        raise FetchError("bad_content_type", f"{shown}: expected a web page, got something else", url=shown)


def _looks_like_html(text: bytes) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in _HTML_MARKERS)


def _content_coding(headers: httpx.Headers, shown: str) -> str | None:
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    raise FetchError("bad_encoding", f"{shown}: unsupported content encoding {', '.join(codings)}", url=shown)


def _too_large(shown: str, limit: int) -> FetchError:
    return FetchError("too_large", f"{shown}: the body is larger than {limit:,} bytes", url=shown)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _network_error(exc: httpx.HTTPError, url: httpx.URL) -> FetchError:
    shown = redact_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"{shown}: timed out ({type(exc).__name__})", url=shown)
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, ssl.SSLError):
            return FetchError("tls_error", f"{shown}: TLS failed ({exc})", url=shown)
        return FetchError("connect_error", f"{shown}: could not connect ({exc or 'refused'})", url=shown)
    if isinstance(exc, httpx.ProtocolError):
        return FetchError("protocol_error", f"{shown}: the server broke the HTTP protocol ({exc})", url=shown)
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return FetchError("bad_url", f"{shown}: {exc}", url=shown)
    return FetchError("network_error", f"{shown}: {type(exc).__name__} ({exc})", url=shown)


def _unexpected_error(exc: Exception, url: httpx.URL) -> FetchError:
    """Whatever else a library raised on a hostile answer, as a FetchError with a fitting reason."""
    shown = redact_url(url)
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:  # anyio wraps connect failures
        exc = exc.exceptions[0]
    if isinstance(exc, FetchError):
        exc.url = exc.url or shown
        return exc
    if isinstance(exc, (httpx.InvalidURL, UnicodeError, ValueError, OverflowError)):
        return FetchError("bad_url", f"{shown}: not a valid address ({type(exc).__name__})", url=shown)
    if isinstance(exc, OSError):
        return FetchError("connect_error", f"{shown}: could not connect ({type(exc).__name__})", url=shown)
    log.warning("fetching %s failed unexpectedly", shown, exc_info=exc)
    return FetchError("network_error", f"{shown}: the fetch failed ({type(exc).__name__})", url=shown)


def _valid_punycode(host: str) -> bool:
    """Each "xn--" label must decode (httpx and the resolver raise odd errors on ones that do not)."""
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                return False
    return True


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
