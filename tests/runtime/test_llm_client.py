"""The bot's LLM client: the real `openai` library talking HTTP to a stand-in of an Ollama or vLLM server."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.llm_client import DEFAULT_CONTEXT_TOKENS, LlmClient
from bot.runtime.logs import protect_secrets
from bot.runtime.metrics import Metrics
from summarizer import LlmUnavailable
from tests.support.standins.openai import OpenAIStandIn, fixture

API_KEY = "sk-local-0123456789abcdefXYZ"


@pytest.fixture(params=["ollama", "vllm"])
def server(request):
    with OpenAIStandIn(request.param) as stand_in:
        yield stand_in


def client_for(server: OpenAIStandIn, **options) -> LlmClient:
    defaults = {"timeout_s": 2.0, "max_retries": 2, "pause_s": 60.0, "metrics": Metrics()}
    return LlmClient(base_url=server.base_url, model=server.model, api_key=API_KEY, **(defaults | options))


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(metrics.render()[0].decode()) for s in family.samples}


def ask(client: LlmClient, schema: dict | None = None) -> str:
    return client.complete("system text", "user text", max_tokens=64, schema=schema)


def test_an_answer_with_the_key_the_schema_and_the_tokens_counted(server):
    client = client_for(server)
    server.reply('{"headline": "H", "points": ["a", "b"]}')
    assert ask(client, schema={"type": "object"}) == '{"headline": "H", "points": ["a", "b"]}'
    [call] = server.calls("chat.completions")
    assert call.params["model"] == server.model
    assert call.params["messages"] == [{"role": "system", "content": "system text"},
                                       {"role": "user", "content": "user text"}]
    assert call.params["response_format"]["type"] == "json_schema"
    assert call.params["_headers"]["authorization"] == f"Bearer {API_KEY}"
    counted = samples(client.metrics)
    assert counted[("briefbot_llm_requests_total", (("outcome", "ok"),))] == 1
    assert counted[("briefbot_llm_tokens_total", (("kind", "prompt"),))] == 4  # the stand-in counts words
    assert counted[("briefbot_llm_tokens_total", (("kind", "completion"),))] == 5
    assert client.status() == {"ok": True}


def test_429_waits_as_long_as_retry_after_says(server):
    client = client_for(server)
    server.fail(429, headers={"Retry-After": "1"})
    server.reply("second")
    assert ask(client) == "second"
    first, second = server.calls("chat.completions")
    assert second.at - first.at >= 0.95
    assert samples(client.metrics)[("briefbot_llm_requests_total", (("outcome", "rate_limited"),))] == 1


def test_a_long_retry_after_pauses_the_llm_instead_of_waiting(server):
    client = client_for(server)
    server.fail(429, headers={"Retry-After": "120"})
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as failure:
        ask(client)
    assert time.monotonic() - started < 1.5 and failure.value.reason == "unavailable"
    with pytest.raises(LlmUnavailable):  # paused: nothing is sent
        ask(client)
    assert len(server.calls("chat.completions")) == 1
    assert "degraded" in client.status()


def test_5xx_is_retried_with_back_off_then_answers(server):
    client = client_for(server)
    server.fail(500)
    server.fail(503)
    server.reply("third time")
    assert ask(client) == "third time"
    calls = server.calls("chat.completions")
    assert len(calls) == 3
    assert calls[1].at - calls[0].at >= 0.3 and calls[2].at - calls[1].at >= 0.7  # 0.5 s, then 1 s, less jitter


def test_a_server_that_keeps_failing_is_paused_and_readyz_says_so(server):
    client = client_for(server, max_retries=1)
    server.fail(500, count=2)
    with pytest.raises(LlmUnavailable):
        ask(client)
    assert len(server.calls("chat.completions")) == 2
    status = client.status()
    assert status["ok"] is True and "server_error" in status["degraded"]
    with pytest.raises(LlmUnavailable, match="paused"):
        ask(client)
    assert len(server.calls("chat.completions")) == 2


def test_a_pause_ends_and_a_success_clears_the_failure(server):
    now = [1000.0]
    client = client_for(server, max_retries=0, pause_s=30.0, clock=lambda: now[0])
    server.fail(502)
    with pytest.raises(LlmUnavailable):
        ask(client)
    now[0] += 31
    server.reply("back")
    assert ask(client) == "back"
    assert client.status() == {"ok": True}


def test_a_stalled_server_times_out(server):
    client = client_for(server, timeout_s=0.5, max_retries=1)
    server.stall(3.0, count=2)
    started = time.monotonic()
    with pytest.raises(LlmUnavailable):
        ask(client)
    assert time.monotonic() - started < 2.5
    assert samples(client.metrics)[("briefbot_llm_requests_total", (("outcome", "timeout"),))] == 2


def test_an_unreachable_server_fails_fast():
    with OpenAIStandIn() as stand_in:
        url = stand_in.base_url
    client = LlmClient(base_url=url, model="m", max_retries=1, timeout_s=2.0, metrics=Metrics())
    with pytest.raises(LlmUnavailable):
        ask(client)
    assert samples(client.metrics)[("briefbot_llm_requests_total", (("outcome", "unreachable"),))] == 2
    assert "unreachable" in client.status()["degraded"]


def test_the_hourly_budget_refuses_without_sending(server):
    now = [5000.0]
    client = client_for(server, requests_per_hour=2, clock=lambda: now[0])
    server.respond_with(lambda params: "fine")
    assert ask(client) == ask(client) == "fine"
    with pytest.raises(LlmUnavailable) as failure:
        ask(client)
    assert failure.value.reason == "over_budget"
    assert len(server.calls("chat.completions")) == 2
    assert "budget of 2 requests an hour" in client.status()["degraded"]
    now[0] += 3601
    assert ask(client) == "fine" and client.status() == {"ok": True}


def test_no_more_requests_at_once_than_the_concurrency_limit(server):
    client = client_for(server, concurrency=2)
    active, peak, lock = [0], [0], threading.Lock()

    def slow(params):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return "done"

    server.respond_with(slow)
    threads = [threading.Thread(target=ask, args=(client,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.calls("chat.completions")) == 6
    assert peak[0] == 2


def test_a_server_without_structured_output_is_asked_again_without_it():
    with OpenAIStandIn("vllm") as server:
        client = client_for(server)
        server.fail(400, body=fixture("vllm_bad_response_format.json"))
        server.respond_with(lambda params: "plain")
        assert ask(client, schema={"type": "object"}) == "plain"
        assert ask(client, schema={"type": "object"}) == "plain"
        first, second, third = server.calls("chat.completions")
        assert "response_format" in first.params and "response_format" not in second.params
        assert "response_format" not in third.params


def test_context_comes_from_vllm_and_defaults_for_ollama():
    with OpenAIStandIn("vllm") as vllm:
        assert client_for(vllm).context_tokens() == 8192
    with OpenAIStandIn("ollama") as ollama:
        assert client_for(ollama).context_tokens() == DEFAULT_CONTEXT_TOKENS
        assert client_for(ollama, context_tokens=16384).context_tokens() == 16384
        assert len(ollama.calls("models")) == 1  # the configured value asks nothing


def test_the_api_key_never_reaches_a_log_line(server, caplog):
    protect_secrets([API_KEY])
    client = client_for(server, max_retries=0)
    server.fail(401, body={"error": {"message": f"invalid key {API_KEY}", "type": "auth"}})
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(LlmUnavailable):
            ask(client)
        logging.getLogger("test").warning("the key was %s", API_KEY)
    assert API_KEY not in caplog.text
    assert "[REDACTED]" in caplog.text


def test_a_refused_request_fails_alone_without_pausing_the_llm(server):
    client = client_for(server)
    server.fail(400, body={"error": {"message": "This model's maximum context length is 4096 tokens", "type": "invalid"}})
    server.reply("next article")
    with pytest.raises(LlmUnavailable, match="HTTP 400"):
        ask(client)
    assert ask(client) == "next article" and client.status() == {"ok": True}


def test_a_wrong_model_name_pauses_the_llm(server):
    client = client_for(server)
    server.fail(404, body={"error": {"message": "model 'nope' not found", "type": "not_found_error"}})
    with pytest.raises(LlmUnavailable):
        ask(client)
    assert "rejected" in client.status()["degraded"] and len(server.calls("chat.completions")) == 1


def test_a_503_with_retry_after_is_honoured(server):
    client = client_for(server)
    server.fail(503, headers={"Retry-After": "1"})
    server.reply("later")
    assert ask(client) == "later"
    first, second = server.calls("chat.completions")
    assert second.at - first.at >= 0.95
