"""SafeFetcher against real local servers: hostile bodies, redirects, limits, conditional GET.

The test servers listen on 127.0.0.2 (and 127.0.0.3); the fetcher is opened for exactly those
addresses with `allowed_addresses`, so every other private address, 127.0.0.1 included, stays
refused, as in production.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib

import pytest
from aiohttp import web

from bot.sources.fetcher import MAX_REDIRECTS, FetchError, SafeFetcher
from tests.support.feedserver import (
    FeedServer,
    conditional,
    drip,
    endless,
    fixed,
    gzip_bomb,
    gzipped,
    redirect_to,
)

RSS = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Local news</title>'
       b'<link>https://news.example.com/</link><item><title>Budget passes</title>'
       b'<link>https://news.example.com/budget</link><guid>budget-1</guid></item></channel></rss>')
HTML = b"<!DOCTYPE html><html><head><title>A page</title></head><body><p>Hello</p></body></html>"


@pytest.fixture(scope="module")
def server():
    with FeedServer("127.0.0.2") as running:
        yield running


@pytest.fixture(scope="module")
def other_server():
    with FeedServer("127.0.0.3") as running:
        yield running


@pytest.fixture
async def fetcher(server, other_server):
    async with SafeFetcher(timeout_s=3, max_bytes=1_000_000,
                           allowed_addresses=[server.host, other_server.host]) as opened:
        yield opened


async def refused(fetcher: SafeFetcher, url: str, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url, **kwargs)
    return caught.value


# --- ordinary answers -----------------------------------------------------------------------

async def test_fetches_a_feed_with_user_agent_and_accept_headers(fetcher, server):
    url = server.serve("/plain.xml", RSS, content_type="application/rss+xml; charset=utf-8")

    result = await fetcher.fetch(url, kind="feed")

    assert result.content == RSS
    assert (result.status, result.url, result.not_modified) == (200, url, False)
    assert result.media_type == "application/rss+xml"
    asked = [r for r in server.requests if r.path == "/plain.xml"][-1]
    assert asked.headers["User-Agent"].startswith("briefbot/")
    assert "application/rss+xml" in asked.headers["Accept"]
    assert "If-None-Match" not in asked.headers


async def test_accept_header_follows_the_kind(fetcher, server):
    url = server.serve("/page.html", HTML, content_type="text/html")
    await fetcher.fetch(url, kind="page")
    asked = [r for r in server.requests if r.path == "/page.html"][-1]
    assert asked.headers["Accept"].startswith("text/html")


async def test_conditional_get_turns_an_unchanged_feed_into_a_304(fetcher, server):
    url = server.route("/cond.xml", conditional(RSS, etag='"v1"', last_modified="Tue, 02 Jan 2024 03:04:05 GMT"))

    first = await fetcher.fetch(url, kind="feed")
    again = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified, kind="feed")

    assert first.content == RSS and first.etag == '"v1"'
    assert again.not_modified and again.status == 304 and again.content == b""
    assert (again.etag, again.last_modified) == ('"v1"', "Tue, 02 Jan 2024 03:04:05 GMT")
    asked = [r for r in server.requests if r.path == "/cond.xml"][-1]
    assert asked.headers["If-None-Match"] == '"v1"'
    assert asked.headers["If-Modified-Since"] == "Tue, 02 Jan 2024 03:04:05 GMT"


@pytest.mark.parametrize("encoding, compress", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
])
async def test_compressed_bodies_are_decoded(fetcher, server, encoding, compress):
    url = server.route(f"/compressed-{encoding}-{len(compress(RSS))}.xml", gzipped(compress(RSS), encoding=encoding))
    result = await fetcher.fetch(url, kind="feed")
    assert result.content == RSS


async def test_redirects_within_the_allowed_hosts_are_followed(fetcher, server, other_server):
    final = other_server.serve("/moved.xml", RSS)
    server.route("/old.xml", redirect_to(final, status=301))

    result = await fetcher.fetch(server.url("/old.xml"), kind="feed")

    assert result.url == final and result.content == RSS


async def test_cookies_live_for_one_redirect_chain_only(fetcher, server):
    async def set_cookie(request: web.Request) -> web.StreamResponse:
        response = web.Response(status=302, headers={"Location": "/members.xml"})
        response.set_cookie("session", "abc")
        return response

    async def members(request: web.Request) -> web.StreamResponse:
        if request.cookies.get("session") != "abc":
            return web.Response(status=403, text="no cookie")
        return web.Response(body=RSS, content_type="application/rss+xml")

    server.route("/login.xml", set_cookie)
    server.route("/members.xml", members)

    assert (await fetcher.fetch(server.url("/login.xml"), kind="feed")).content == RSS
    assert (await refused(fetcher, server.url("/members.xml"), kind="feed")).reason == "http_403"


# --- content types --------------------------------------------------------------------------

async def test_a_feed_served_as_text_html_is_accepted_by_its_first_bytes(fetcher, server):
    url = server.serve("/lying.xml", RSS, content_type="text/html; charset=utf-8")
    assert (await fetcher.fetch(url, kind="feed")).content == RSS


async def test_a_feed_without_content_type_is_accepted_by_its_first_bytes(fetcher, server):
    url = server.serve("/untyped.xml", RSS, content_type=None)
    assert (await fetcher.fetch(url, kind="feed")).content == RSS


async def test_html_where_a_feed_was_expected_is_refused(fetcher, server):
    url = server.serve("/not-a-feed", HTML, content_type="text/html")
    error = await refused(fetcher, url, kind="feed")
    assert error.reason == "bad_content_type"
    assert "expected a feed, got an HTML page" in str(error)


async def test_an_image_is_neither_a_feed_nor_a_page(fetcher, server):
    url = server.serve("/pic.png", b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")
    for kind in ("feed", "page"):
        error = await refused(fetcher, url, kind=kind)
        assert error.reason == "bad_content_type" and "image/png" in str(error)
    assert (await fetcher.fetch(url, kind="any")).content.startswith(b"\x89PNG")


async def test_a_page_must_be_html_or_text(fetcher, server):
    html = server.serve("/article.html", HTML, content_type="text/html; charset=utf-8")
    json_url = server.serve("/data.json", b'{"a": 1}', content_type="application/json")
    assert (await fetcher.fetch(html, kind="page")).content == HTML
    assert (await refused(fetcher, json_url, kind="page")).reason == "bad_content_type"


# --- hostile bodies -------------------------------------------------------------------------

async def test_a_gzip_bomb_stops_at_the_cap_without_inflating_it_all(fetcher, server):
    bomb = gzip_bomb(1024)  # about 1 MB that inflates to 1 GiB
    assert len(bomb) < 1_200_000
    url = server.route("/bomb.xml", gzipped(bomb))

    error = await refused(fetcher, url, kind="feed")

    assert error.reason == "too_large"
    assert "1,000,000 bytes" in str(error)


async def test_a_bomb_just_under_the_cap_is_read_whole(server):
    url = server.route("/small-bomb.xml", gzipped(gzip_bomb(2)))
    async with SafeFetcher(max_bytes=3 << 20, allowed_addresses=[server.host]) as fetcher:
        result = await fetcher.fetch(url, kind="any")
    assert result.content == bytes(2 << 20)


async def test_an_endless_chunked_body_stops_at_the_cap(fetcher, server):
    url = server.route("/endless.xml", endless())
    assert (await refused(fetcher, url, kind="feed")).reason == "too_large"


async def test_a_declared_length_over_the_cap_is_refused(fetcher, server):
    url = server.serve("/big.xml", RSS + b" " * 1_100_000)
    assert (await refused(fetcher, url, kind="feed")).reason == "too_large"


async def test_a_server_sending_a_byte_at_a_time_fails_at_the_deadline(server):
    # Each byte comes well within the read timeout; only the total deadline can stop this.
    url = server.route("/drip.xml", drip(RSS, interval_s=0.25))
    async with SafeFetcher(timeout_s=1.0, allowed_addresses=[server.host]) as fetcher:
        error = await refused(fetcher, url, kind="feed")
    assert error.reason == "timeout"
    assert "no complete answer within 1 s" in str(error)


async def test_a_server_that_never_answers_times_out(server):
    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(10)
        return web.Response(text="too late")

    url = server.route("/silent.xml", silent)
    async with SafeFetcher(timeout_s=0.5, allowed_addresses=[server.host]) as fetcher:
        assert (await refused(fetcher, url)).reason == "timeout"


@pytest.mark.parametrize("headers, reason", [
    ({"Content-Encoding": "br"}, "bad_encoding"),
    ({"Content-Encoding": "gzip, gzip"}, "bad_encoding"),
    ({"Content-Encoding": "gzip"}, "bad_encoding"),  # the body is not gzip at all
])
async def test_unusable_content_encodings_are_refused(fetcher, server, headers, reason):
    path = f"/encoding-{len(server.requests)}.xml"
    url = server.route(path, fixed(b"not compressed at all" * 10, content_type="application/rss+xml",
                                   headers=headers))
    assert (await refused(fetcher, url, kind="feed")).reason == reason


# --- HTTP errors ----------------------------------------------------------------------------

async def test_404_and_500_are_errors_with_their_status(fetcher, server):
    missing = await refused(fetcher, server.url("/nothing-here.xml"), kind="feed")
    url = server.serve("/broken.xml", b"oops", status=500, content_type="text/plain")
    broken = await refused(fetcher, url, kind="feed")

    assert (missing.reason, missing.status) == ("http_404", 404)
    assert (broken.reason, broken.status) == ("http_500", 500)
    assert "500 Internal Server Error" in str(broken)


async def test_retry_after_is_reported(fetcher, server):
    url = server.serve("/busy.xml", b"slow down", status=429, content_type="text/plain",
                       headers={"Retry-After": "120"})
    error = await refused(fetcher, url, kind="feed")
    assert (error.reason, error.retry_after) == ("http_429", 120.0)


# --- redirects ------------------------------------------------------------------------------

async def test_too_many_redirects(fetcher, server):
    for hop in range(MAX_REDIRECTS + 1):
        server.route(f"/hop{hop}", redirect_to(f"/hop{hop + 1}"))
    server.serve(f"/hop{MAX_REDIRECTS + 1}", RSS)

    error = await refused(fetcher, server.url("/hop0"), kind="feed")
    assert error.reason == "too_many_redirects"
    # exactly MAX_REDIRECTS redirects are fine
    assert (await fetcher.fetch(server.url("/hop1"), kind="feed")).content == RSS


async def test_a_redirect_loop_ends(fetcher, server):
    server.route("/loop", redirect_to("/loop"))
    assert (await refused(fetcher, server.url("/loop"))).reason == "too_many_redirects"


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/feed.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:{port}/feed.xml",
    "http://[::1]:{port}/feed.xml",
    "http://2130706433:{port}/feed.xml",
    "http://0x7f000001:{port}/feed.xml",
    "http://[::ffff:127.0.0.1]:{port}/feed.xml",
    "http://10.0.0.1/feed.xml",
])
async def test_redirects_to_private_addresses_are_refused(fetcher, server, target):
    # A server on 127.0.0.1 that would answer, were the redirect followed.
    with FeedServer("127.0.0.1") as victim:
        victim.serve("/feed.xml", RSS)
        location = target.format(port=victim.port)
        path = f"/to-private-{abs(hash(location))}"
        server.route(path, redirect_to(location))

        error = await refused(fetcher, server.url(path), kind="feed")

        assert error.reason == "blocked_address"
        assert victim.requests == []


async def test_a_redirect_to_another_scheme_is_refused(fetcher, server):
    server.route("/to-file", redirect_to("file:///etc/passwd"))
    error = await refused(fetcher, server.url("/to-file"))
    assert error.reason == "bad_url" and "only http and https" in str(error)


# --- limits ---------------------------------------------------------------------------------

def counting(in_flight: dict[str, int], hold_s: float = 0.2):
    async def handler(request: web.Request) -> web.StreamResponse:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        try:
            await asyncio.sleep(hold_s)
        finally:
            in_flight["now"] -= 1
        return web.Response(body=RSS, content_type="application/rss+xml")

    return handler


async def test_requests_per_host_are_limited(server):
    in_flight = {"now": 0, "max": 0}
    url = server.route("/counted.xml", counting(in_flight))
    async with SafeFetcher(per_host=2, allowed_addresses=[server.host]) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(url) for _ in range(8)))
    assert all(r.content == RSS for r in results)
    assert in_flight["max"] == 2


async def test_requests_overall_are_limited(server, other_server):
    in_flight = {"now": 0, "max": 0}
    urls = [server.route("/all.xml", counting(in_flight)), other_server.route("/all.xml", counting(in_flight))]
    async with SafeFetcher(per_host=4, concurrency=3, allowed_addresses=[server.host, other_server.host]) as fetcher:
        await asyncio.gather(*(fetcher.fetch(urls[i % 2]) for i in range(10)))
    assert in_flight["max"] == 3


# --- nothing bypasses the door, nothing leaks ----------------------------------------------

async def test_proxy_settings_in_the_environment_are_ignored(server, other_server, monkeypatch):
    url = server.serve("/direct.xml", RSS)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, other_server.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    seen_by_proxy = len(other_server.requests)

    async with SafeFetcher(allowed_addresses=[server.host]) as fetcher:
        assert (await fetcher.fetch(url)).content == RSS

    assert len(other_server.requests) == seen_by_proxy


async def test_credentials_and_query_never_reach_errors_or_logs(fetcher, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.serve("/private.xml", RSS)
    secret_url = f"http://reader:hunter2@{server.host}:{server.port}/private.xml?token=s3cr3t"
    missing_url = f"http://reader:hunter2@{server.host}:{server.port}/gone.xml?token=s3cr3t"

    assert (await fetcher.fetch(secret_url, kind="feed")).content == RSS
    error = await refused(fetcher, missing_url, kind="feed")

    assert error.reason == "http_404"
    for text in (str(error), error.url, caplog.text):
        assert "hunter2" not in text and "s3cr3t" not in text
    assert "/gone.xml" in str(error)
