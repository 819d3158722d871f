"""The bot's Prometheus metrics, in a registry of its own (so several bots can live in one test process).

Components get the `Metrics` object from the composition root and call its small methods; the
outbox depth is not counted here but read from the store when `/metrics` is scraped (bot/health.py).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# What the delivery loop can make of one message (its `stats` keys): a fixed set keeps label values bounded.
# timeout_resent: a send timed out without an answer and went once more (it may have arrived twice).
DELIVERY_OUTCOMES = ("sent", "failed", "rate_limited", "unknown", "retried", "forbidden", "timeout_resent")
DIGEST_STAGES = ("enqueued", "sent")
# Summarizing a batch takes from milliseconds (lead) to minutes (a large abstractive model on a CPU).
SUMMARIZER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# A digest is due at a minute; it may wait for a poll, a rate limit, or a restart within the grace period.
DIGEST_LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600)


def _package_version() -> str:
    try:
        return version("briefbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self._info = Gauge("briefbot_build_info", "The running briefbot version (always 1).", ["version"],
                           registry=r)
        self._info.labels(version=_package_version()).set(1)
        self._articles = Counter("briefbot_articles_ingested", "Articles new to the store, from feeds.",
                                 registry=r)
        self._briefs = Counter("briefbot_briefs_made", "Briefs the summarizer made.", registry=r)
        self._summarizer_seconds = Histogram("briefbot_summarizer_seconds",
                                             "Time of one summarizer call (one batch of articles).",
                                             buckets=SUMMARIZER_BUCKETS, registry=r)
        self._feed_errors = Counter("briefbot_feed_errors", "Feed polls that failed, by reason.", ["reason"],
                                    registry=r)
        self._deliveries = Counter("briefbot_deliveries", "Messages the delivery loop finished or deferred, "
                                   "by platform and outcome.", ["platform", "outcome"], registry=r)
        self._outbox_depth = Gauge("briefbot_outbox_depth", "Messages waiting to go out (read from the store "
                                   "at scrape time; NaN when the store did not answer).", registry=r)
        self._digest_lag = Histogram("briefbot_digest_lag_seconds", "Seconds from a digest's scheduled time "
                                     "to the moment it was enqueued or sent.", ["stage"],
                                     buckets=DIGEST_LAG_BUCKETS, registry=r)

    # ----- what components call ---------------------------------------------------------------

    def article_ingested(self, count: int = 1) -> None:
        self._articles.inc(_non_negative(count))

    def brief_made(self, seconds: float, count: int = 1) -> None:
        """One summarizer call that took `seconds` and made `count` briefs."""
        self._summarizer_seconds.observe(_non_negative(seconds))
        self._briefs.inc(_non_negative(count))

    def feed_error(self, reason: str) -> None:
        """`reason` is a FetchError/FeedError `.reason` (a short fixed word), never a URL or a message."""
        self._feed_errors.labels(reason=reason).inc()

    def delivery(self, outcome: str, *, platform: str, count: int = 1) -> None:
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(f"unknown delivery outcome {outcome!r}; expected one of {DELIVERY_OUTCOMES}")
        self._deliveries.labels(platform=platform, outcome=outcome).inc(_non_negative(count))

    def digest_lag(self, seconds: float, *, stage: str = "enqueued") -> None:
        if stage not in DIGEST_STAGES:
            raise ValueError(f"unknown digest stage {stage!r}; expected one of {DIGEST_STAGES}")
        self._digest_lag.labels(stage=stage).observe(max(0.0, seconds))  # early by clock skew counts as on time

    def platforms(self, names: list[str]) -> None:
        """Show every outcome of each platform from the start (0 rather than absent), so rates and
        alerts work before the first failure."""
        for platform in names:
            for outcome in DELIVERY_OUTCOMES:
                self._deliveries.labels(platform=platform, outcome=outcome)

    # ----- what the /metrics handler calls -----------------------------------------------------

    def set_outbox_depth(self, depth: float) -> None:
        self._outbox_depth.set(depth)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this registry, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"a count or duration cannot be negative: {value}")
    return value
