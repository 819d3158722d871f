"""Only globally routable addresses are reached, however they are spelled, and the check holds
on the address actually connected to (so a name that resolves to a private address fails too)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from bot.sources.addresses import ip_literal, is_public_address
from bot.sources.fetcher import FetchError, SafeFetcher
from tests.support.feedserver import FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

LOOPBACK_SPELLINGS = [
    "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "017700000001",
    "127.000.000.001", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost",
    "LOCALHOST", "localhost.", "app.localhost", "0.0.0.0", "0", "[::]",
]
OTHER_FORBIDDEN = [
    "169.254.169.254",  # cloud metadata
    "10.0.0.1", "172.16.0.1", "192.168.1.1",  # private
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1", "239.255.255.250",  # multicast
    "240.0.0.1", "255.255.255.255",  # reserved, broadcast
    "192.0.2.1", "198.51.100.1", "203.0.113.1", "[2001:db8::1]", "[3fff::1]",  # documentation
    "198.18.0.1",  # benchmarking
    "[fe80::1]", "[fc00::1]", "[fd00::2]",  # link-local, unique-local
    "[ff02::1]",  # multicast
    "[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::1]",  # NAT64
    "[2002:7f00:1::]", "[2002:a9fe:a9fe::]",  # 6to4 wrapping loopback, metadata
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    "[::127.0.0.1]",  # IPv4-compatible (deprecated)
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + OTHER_FORBIDDEN)
async def test_every_spelling_of_a_forbidden_address_is_refused(host):
    with FeedServer("127.0.0.1") as server:  # would answer, were anything let through
        server.serve("/feed.xml", RSS)
        async with SafeFetcher(timeout_s=2) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(f"http://{host}:{server.port}/feed.xml")
        assert caught.value.reason == "blocked_address", str(caught.value)
        assert server.requests == []


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111",
                                     "2a00:1450:4001:82a::200e", "2002:808:808::1"])
def test_public_addresses_are_allowed(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("host", [h.strip("[]") for h in OTHER_FORBIDDEN + LOOPBACK_SPELLINGS
                                  if ip_literal(h) is not None])
def test_the_address_rule_refuses_each_literal(host):
    assert not is_public_address(ip_literal(host))


def test_odd_spellings_are_read_as_the_resolver_reads_them():
    assert {str(ip_literal(h)) for h in ("127.1", "2130706433", "0x7f000001", "0177.0.0.1")} == {"127.0.0.1"}
    assert ip_literal("example.com") is None and ip_literal("cafe.be") is None


async def test_an_odd_spelling_of_a_public_address_is_refused_as_ambiguous():
    async with SafeFetcher() as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch("http://134744072/")  # 8.8.8.8, spelled as one number
    assert caught.value.reason == "bad_url"


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "file:///etc/passwd", "gopher://example.com/",
                                 "http:///feed", "not a url", "http://exa mple.com/", "http://%31%32%37.0.0.1/"])
async def test_urls_other_than_http_and_https_are_refused(url):
    async with SafeFetcher() as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(url)
    assert caught.value.reason == "bad_url"


# --- the check at connect time ---------------------------------------------------------------

async def test_a_name_resolving_to_a_private_address_is_refused_at_connect_time(monkeypatch):
    """DNS rebinding: the name passes every check on the URL; only the resolved address betrays it.
    The resolver's answer is substituted (there is no DNS here); the connection path is real."""
    with FeedServer("127.0.0.1") as server:
        server.serve("/feed.xml", RSS)
        loop_getaddrinfo = _resolving(monkeypatch, {"rebind.example": ["127.0.0.1"]})
        async with SafeFetcher(timeout_s=2) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(f"http://rebind.example:{server.port}/feed.xml")
        assert loop_getaddrinfo.asked == ["rebind.example"]
        assert caught.value.reason == "blocked_address"
        assert "rebind.example is a private or special-use address" in str(caught.value)
        assert "127.0.0.1" not in str(caught.value)  # never an oracle of what a name resolves to
        assert server.requests == []


async def test_only_the_vetted_address_of_a_mixed_answer_is_connected_to(monkeypatch):
    with FeedServer("127.0.0.2") as allowed, FeedServer("127.0.0.1", port=allowed.port) as forbidden:
        allowed.serve("/feed.xml", RSS)
        forbidden.serve("/feed.xml", b"secret metadata")  # same port: only the address tells them apart
        _resolving(monkeypatch, {"mixed.example": ["127.0.0.1", "127.0.0.2"]})
        async with SafeFetcher(timeout_s=2, allowed_addresses=["127.0.0.2"]) as fetcher:
            result = await fetcher.fetch(f"http://mixed.example:{allowed.port}/feed.xml")
        assert result.content == RSS
        assert allowed.requests[-1].headers["Host"] == f"mixed.example:{allowed.port}"
        assert forbidden.requests == []


async def test_the_machine_name_from_the_real_resolver_is_refused():
    """No substitution: the system resolver's own answer for this machine's name is loopback."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except socket.gaierror:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        pytest.skip(f"this machine's name {name!r} resolves to {addresses}, not only to loopback")
    with FeedServer("127.0.0.1") as server:
        server.serve("/feed.xml", RSS)
        async with SafeFetcher(timeout_s=2) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(f"http://{name}:{server.port}/feed.xml")
        assert caught.value.reason == "blocked_address"
        assert server.requests == []


async def test_allow_private_opens_loopback_for_tests():
    with FeedServer("127.0.0.1") as server:
        url = server.serve("/feed.xml", RSS)
        async with SafeFetcher(allow_private=True) as fetcher:
            assert (await fetcher.fetch(url)).content == RSS
            assert (await fetcher.fetch(f"http://localhost:{server.port}/feed.xml")).content == RSS


async def test_an_unknown_name_is_a_dns_error():
    async with SafeFetcher(timeout_s=5) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch("http://no-such-host.invalid/feed.xml")
    assert caught.value.reason == "dns_error"
    assert caught.value.url == "http://no-such-host.invalid/feed.xml"


def _resolving(monkeypatch, answers: dict[str, list[str]]):
    """Make the running loop's resolver answer `answers` for those names (and only those)."""
    import asyncio

    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host, port, *args, **kwargs):
        getaddrinfo.asked.append(host)
        if host not in answers:
            return await real(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                 (a, port)) for a in answers[host]]

    getaddrinfo.asked = []
    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return getaddrinfo
