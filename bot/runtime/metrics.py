"""The bot's Prometheus metrics, in a registry of its own (so several bots can live in one test process).

Components get the `Metrics` object from the composition root and call its small methods; the
outbox depth is not counted here but read from the store when `/metrics` is scraped (bot/runtime/health.py).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# What the delivery loop can make of one message (its `stats` keys): a fixed set keeps label values bounded.
# timeout_resent: a send timed out without an answer and went once more (it may have arrived twice).
DELIVERY_OUTCOMES = ("sent", "failed", "rate_limited", "unknown", "retried", "forbidden", "timeout_resent")
DIGEST_STAGES = ("enqueued", "sent")
# The llm backend: what became of each request to the server, and why a brief fell back to extractive.
LLM_OUTCOMES = ("ok", "rate_limited", "server_error", "timeout", "unreachable", "rejected", "over_budget")
LLM_FALLBACKS = ("unavailable", "over_budget", "unreadable", "wrong_language", "unfaithful")
# Summarizing a batch takes from milliseconds (lead) to minutes (a large abstractive model on a CPU).
SUMMARIZER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# A digest is due at a minute; it may wait for a poll, a rate limit, or a restart within the grace period.
DIGEST_LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600)
# A healthy loop wakes within milliseconds; 0.2 s is where every chat starts to notice.
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30)


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
        self._llm_requests = Counter("briefbot_llm_requests", "Requests to the LLM server (llm backend), by "
                                     "outcome; over_budget ones were not sent.", ["outcome"], registry=r)
        self._llm_tokens = Counter("briefbot_llm_tokens", "Tokens the LLM server counted, by kind (prompt, "
                                   "completion).", ["kind"], registry=r)
        self._llm_fallbacks = Counter("briefbot_llm_fallbacks", "Briefs the extractive backend made because the "
                                      "LLM's could not be used, by reason.", ["reason"], registry=r)
        self._llm_points_dropped = Counter("briefbot_llm_points_dropped", "Points the LLM wrote that the "
                                           "faithfulness guard dropped (not supported by the article).", registry=r)
        self._loop_lag = Gauge("briefbot_event_loop_lag_seconds", "How late the event loop woke the watchdog "
                               "at its latest check (every chat waits while the loop is blocked).", registry=r)
        self._loop_held = Histogram("briefbot_event_loop_held_seconds", "Every watchdog check's lag less the time "
                                    "the loop's thread waited for a CPU (Linux): how long the bot's own work held "
                                    "the loop; a stall between two scrapes is still counted.",
                                    buckets=LOOP_LAG_BUCKETS, registry=r)

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

    def llm_request(self, outcome: str) -> None:
        if outcome not in LLM_OUTCOMES:
            raise ValueError(f"unknown LLM outcome {outcome!r}; expected one of {LLM_OUTCOMES}")
        self._llm_requests.labels(outcome=outcome).inc()

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        self._llm_tokens.labels(kind="prompt").inc(_non_negative(prompt))
        self._llm_tokens.labels(kind="completion").inc(_non_negative(completion))

    def llm_brief(self, *, fallback: str | None, points_dropped: int = 0) -> None:
        """One brief of the llm backend: `fallback` is why the extractive backend made it instead, if it did."""
        if fallback is not None:
            if fallback not in LLM_FALLBACKS:
                raise ValueError(f"unknown LLM fallback {fallback!r}; expected one of {LLM_FALLBACKS}")
            self._llm_fallbacks.labels(reason=fallback).inc()
        self._llm_points_dropped.inc(_non_negative(points_dropped))

    def llm_backend(self) -> None:
        """Show the LLM series from the start (0 rather than absent) when the llm backend is configured."""
        for outcome in LLM_OUTCOMES:
            self._llm_requests.labels(outcome=outcome)
        for kind in ("prompt", "completion"):
            self._llm_tokens.labels(kind=kind)
        for reason in LLM_FALLBACKS:
            self._llm_fallbacks.labels(reason=reason)
    def loop_lag(self, seconds: float, *, held_s: float) -> None:
        """The watchdog's check: `seconds` late in all, `held_s` of it by the bot's own work."""
        self._loop_lag.set(_non_negative(seconds))
        self._loop_held.observe(_non_negative(held_s))

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
