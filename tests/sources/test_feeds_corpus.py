"""feedparser's own corpus of 2,000+ test feeds (well-formed, ill-formed, odd encodings, entities),
taken from its source distribution on the package registry: every one parses or raises FeedError,
and its compressed samples, served over HTTP, decode or raise FetchError."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.sources.feeds import FeedError, parse_feed
from bot.sources.fetcher import FetchError, SafeFetcher
from tests.support.feedserver import FeedServer, fixed

_NETWORK_TROUBLE = ("NewConnectionError", "Max retries", "Temporary failure in name resolution",
                    "Network is unreachable", "ConnectTimeout", "ReadTimeout", "ProxyError",
                    "Could not fetch URL", "Connection refused", "Name or service not known")


@pytest.fixture(scope="module")
def corpus(request, tmp_path_factory) -> Path:
    """The `tests/` folder of the installed feedparser's sdist, fetched once and cached."""
    release = f"feedparser-{version('feedparser')}"
    cache = getattr(request.config, "cache", None)
    folder = Path(cache.mkdir("feedparser-corpus")) if cache else tmp_path_factory.mktemp("feedparser-corpus")
    tests = folder / release / "tests"
    if not tests.is_dir():
        archive = folder / f"{release}.tar.gz"
        if not archive.exists():
            fetched = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                 "--no-build-isolation", f"feedparser=={version('feedparser')}", "-d", str(folder)],
                capture_output=True, text=True, timeout=300)
            if fetched.returncode != 0:
                if any(sign in fetched.stderr for sign in _NETWORK_TROUBLE):
                    pytest.skip(f"the package registry is unreachable: {fetched.stderr.strip()[-300:]}")
                pytest.fail(f"pip download failed: {fetched.stderr[-2000:]}")
        with tarfile.open(archive) as sdist:
            members = [m for m in sdist.getmembers() if m.name.startswith(f"{release}/tests/")
                       and (m.isfile() or m.isdir()) and ".." not in m.name.split("/")]
            # The "data" filter (no links out, no device files) exists from Python 3.11.4 on; Debian 12 has 3.11.2.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            sdist.extractall(folder, members=members, **safe)
    return tests


def test_every_corpus_feed_parses_or_raises_feed_error(corpus):
    files = sorted(corpus.rglob("*.xml"))
    assert len(files) > 2000
    outcomes: dict[str, int] = {}
    unexpected = []
    for path in files:
        try:
            feed = parse_feed(path.read_bytes(), url=f"http://example.com/{path.name}")
            outcome = "salvaged" if feed.salvaged else "parsed"
        except FeedError as exc:
            assert str(exc), path
            outcome = exc.reason
        except Exception as exc:  # the point of the test: nothing but FeedError escapes
            unexpected.append(f"{path.relative_to(corpus)}: {exc!r}")
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert unexpected == []
    # The well-formed corpus is overwhelmingly read as feeds, not refused.
    assert outcomes["parsed"] > 1900, outcomes


async def test_corpus_compressed_samples_decode_or_fail_cleanly(corpus):
    samples = sorted((corpus / "compression").iterdir())
    assert samples
    decoded = []
    with FeedServer("127.0.0.2") as server:
        async with SafeFetcher(timeout_s=5, allowed_addresses=[server.host]) as fetcher:
            for sample in samples:
                encoding = "gzip" if sample.suffix == ".gz" else "deflate"
                url = server.route(f"/{sample.name}", fixed(sample.read_bytes(), content_type="application/xml",
                                                            headers={"Content-Encoding": encoding}))
                try:
                    result = await fetcher.fetch(url, kind="feed")
                except FetchError as exc:
                    assert exc.reason == "bad_encoding", (sample.name, exc.reason, str(exc))
                    continue
                parse_feed(result.content, url=result.url)
                decoded.append(sample.name)
    # gzip.gz, deflate.z (zlib) and deflate-no-headers.z (raw deflate) are proper samples.
    assert {"gzip.gz", "deflate.z", "deflate-no-headers.z"} <= set(decoded)
