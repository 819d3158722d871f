"""The client of the operator's LLM server (OpenAI-compatible chat completions: Ollama, llama.cpp, vLLM),
with the official `openai` library, for the summarizer's `llm` backend.

It holds the cost controls: a per-hour request budget, a limit on calls at once, a timeout per call,
retries with back-off on 429 (Retry-After honoured) and 5xx, and after a failure a pause during which
no request is made (the backend's fallback makes the briefs meanwhile). Its `status()` is what /readyz
shows. The server is configuration, not user input: the fetcher's private-address rule is not applied.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.runtime.metrics import Metrics
from summarizer.backends.llm import LlmUnavailable

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 4096  # Ollama's default context; vLLM says its own (max_model_len)
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After pauses the LLM rather than holding the summarizer
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
HOUR_S = 3600.0


class LlmClient:
    def __init__(self, *, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0,
                 max_retries: int = 2, concurrency: int = 2, requests_per_hour: int = 1000,
                 context_tokens: int | None = None, max_output_tokens: int = 512, structured_output: bool = True, pause_s: float = 60.0,
                 metrics: Metrics | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        try:
            import openai
        except ImportError as exc:  # not in the default install
            raise RuntimeError("SUMMARIZER_BACKEND=llm needs the openai package: pip install 'briefbot[llm]' "
                               "(docs/summarizers.md)") from exc
        self._openai = openai
        # Retries are ours (max_retries=0): each attempt counts against the budget, and a long
        # Retry-After pauses the LLM instead of blocking the summarizer's thread.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "unused", max_retries=0,
                                     timeout=openai.Timeout(timeout_s, connect=min(5.0, timeout_s)))
        self.name = model
        self.concurrency = concurrency
        self.max_output_tokens = max_output_tokens
        self.max_retries = max_retries
        self.requests_per_hour = requests_per_hour
        self.pause_s = pause_s
        self.metrics = metrics
        self._configured_context = context_tokens
        self._context: int | None = None
        self._context_lock = threading.Lock()
        self._structured = structured_output
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()  # clock() of each request in the last hour
        self._paused_until = 0.0
        self._last_error: str | None = None  # the type of the last failure, None after a success
        self._clock = clock

    # ----- the summarizer's ChatModel --------------------------------------------------------------

    def context_tokens(self) -> int:
        if self._configured_context:
            return self._configured_context
        with self._context_lock:  # asked once, whichever of the backend's threads comes first
            if self._context is None:
                self._context = self._ask_context() or DEFAULT_CONTEXT_TOKENS
            return self._context

    def complete(self, system: str, user: str, *, max_tokens: int, schema: dict | None) -> str:
        openai = self._openai
        attempt = 0
        while True:
            self._admit()
            options = {}
            if schema is not None and self._structured:
                options["response_format"] = {"type": "json_schema",
                                              "json_schema": {"name": "brief", "schema": schema, "strict": True}}
            try:
                with self._slots:
                    response = self._client.chat.completions.create(
                        model=self.name, max_tokens=max_tokens, temperature=0.2,
                        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                        **options)
            except openai.BadRequestError as exc:
                if "response_format" in options and _about_response_format(exc):
                    log.warning("the LLM server refused structured output (HTTP %s); asking for plain JSON",
                                exc.status_code)
                    self._structured = False
                    continue
                # This request (an article too long for the context, say), not the server: no pause.
                self._count("rejected")
                raise LlmUnavailable("unavailable", f"the LLM server refused the request: HTTP {exc.status_code}") \
                    from exc
            except openai.APIStatusError as exc:
                retryable = exc.status_code == 429 or exc.status_code >= 500
                outcome = "rate_limited" if exc.status_code == 429 else "server_error" if retryable else "rejected"
                self._count(outcome)
                wait = _retry_after(exc.response.headers) if retryable else None
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    raise self._failed(outcome, f"HTTP {exc.status_code}, Retry-After {wait:g} s", pause=wait) from exc
                if not retryable or attempt >= self.max_retries:
                    raise self._failed(outcome, f"HTTP {exc.status_code}") from exc
                time.sleep(wait if wait is not None else _backoff(attempt))
            except openai.APIConnectionError as exc:  # refused, reset, or timed out (APITimeoutError)
                outcome = "timeout" if isinstance(exc, openai.APITimeoutError) else "unreachable"
                self._count(outcome)
                if attempt >= self.max_retries:
                    raise self._failed(outcome, type(exc).__name__) from exc
                time.sleep(_backoff(attempt))
            else:
                return self._answer(response)
            attempt += 1

    # ----- what /readyz shows -------------------------------------------------------------------

    def status(self) -> dict:
        """{"ok": True} while the LLM makes the briefs; with "degraded" (a short reason, no message)
        while it is paused, failing or over budget and the fallback backend makes them."""
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            over_budget = self.requests_per_hour and len(self._sent) >= self.requests_per_hour
            paused, error = now < self._paused_until, self._last_error
            next_slot = self._sent[0] + HOUR_S - now if over_budget else 0.0
        if over_budget:
            until = datetime.now(UTC) + timedelta(seconds=next_slot)
            return {"ok": True, "degraded": f"over its budget of {self.requests_per_hour} requests an hour, "
                                            f"extractive briefs until {until:%H:%M} UTC"}
        if paused or error:
            return {"ok": True, "degraded": f"the LLM server failed ({error}), extractive briefs until it answers"}
        return {"ok": True}

    # ----- internals ----------------------------------------------------------------------------

    def _admit(self) -> None:
        """Counts a request against the hour's budget, or refuses it while over budget or paused."""
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            if self.requests_per_hour and len(self._sent) >= self.requests_per_hour:
                self._count("over_budget")
                raise LlmUnavailable("over_budget", f"{self.requests_per_hour} requests in the last hour")
            if now < self._paused_until:
                raise LlmUnavailable("unavailable", f"paused for {self._paused_until - now:.0f} s more after "
                                                    f"a failure ({self._last_error})")
            self._sent.append(now)

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - HOUR_S:
            self._sent.popleft()

    def _failed(self, outcome: str, detail: str, *, pause: float | None = None) -> LlmUnavailable:
        with self._lock:
            self._last_error = outcome
            self._paused_until = self._clock() + (pause if pause is not None else self.pause_s)
        log.warning("the LLM server failed (%s); extractive briefs for %.0f s", detail,
                    pause if pause is not None else self.pause_s)
        return LlmUnavailable("unavailable", f"the LLM server failed: {detail}")

    def _answer(self, response) -> str:
        with self._lock:
            self._last_error = None
        self._count("ok")
        usage = getattr(response, "usage", None)
        if usage is not None and self.metrics is not None:
            self.metrics.llm_tokens(prompt=usage.prompt_tokens or 0, completion=usage.completion_tokens or 0)
        choices = response.choices or []
        return (choices[0].message.content or "") if choices else ""

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.llm_request(outcome)

    def _ask_context(self) -> int | None:
        """vLLM says its model's context (`max_model_len`) in GET /models; Ollama and llama.cpp do not."""
        try:
            models = self._client.with_options(timeout=5.0).models.list()
        except self._openai.OpenAIError as exc:
            log.info("the LLM server did not list its models (%s); assuming %s tokens of context",
                     type(exc).__name__, DEFAULT_CONTEXT_TOKENS)
            return None
        for model in models.data:
            if model.id == self.name:
                value = (model.model_extra or {}).get("max_model_len")
                return value if isinstance(value, int) and value > 0 else None
        return None


def _about_response_format(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("response_format", "json_schema", "structured", "grammar"))


def _retry_after(headers) -> float | None:
    """Seconds from Retry-After (or retry-after-ms); None when absent or an HTTP date we cannot read."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
    return None


def _backoff(attempt: int) -> float:
    return min(BACKOFF_BASE_S * 2 ** attempt, BACKOFF_MAX_S) * (0.75 + random.random() / 4)
