"""A stand-in of an OpenAI-compatible chat-completions server (Ollama, vLLM) on 127.0.0.1, port 0.

The real `openai` client talks HTTP to it: `base_url=stand_in.base_url` ("http://127.0.0.1:PORT/v1").
Answers come in the response shapes of Ollama or vLLM (`flavour`), from tests/support/llm/ (written
from their documented formats: Ollama's OpenAI compatibility, vLLM's OpenAI-compatible server), with
the content filled in and token usage counted. Tests script each next answer:

    llm = OpenAIStandIn(flavour="vllm").start()
    llm.reply('{"headline": "...", "points": ["...", "..."]}')        # one answer
    llm.fail(429, headers={"Retry-After": "1"})                       # one HTTP error, then the next answer
    llm.stall(5.0)                                                    # no answer for 5 s (client timeouts)
    llm.respond_with(lambda params: '{"points": [...]}')              # every answer without a script

Every request is recorded (`calls("chat.completions")`, params = the JSON body the client sent).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.standins.server import Call, StandInServer

FIXTURES = Path(__file__).resolve().parents[1] / "llm"
MODELS = {"ollama": "llama3.2:3b", "vllm": "Qwen/Qwen2.5-7B-Instruct"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Scripted:
    content: str | None = None  # an answer with this content
    status: int = 200
    body: Any = None  # an error body (JSON) for status >= 400
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # wait this long first (a client with a shorter timeout gives up)
    finish_reason: str = "stop"


class OpenAIStandIn(StandInServer):
    def __init__(self, flavour: str = "ollama", *, model: str | None = None) -> None:
        super().__init__()
        if flavour not in MODELS:
            raise ValueError(f"flavour must be one of {sorted(MODELS)}")
        self.flavour = flavour
        self.model = model or MODELS[flavour]
        self._script: deque[Scripted] = deque()
        self._script_lock = threading.Lock()
        self._responder: Callable[[dict], str] | None = None

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # ----- scripting (any thread) ----------------------------------------------------------------

    def reply(self, content: str, *, finish_reason: str = "stop", count: int = 1) -> None:
        self._push(Scripted(content=content, finish_reason=finish_reason), count)

    def fail(self, status: int, *, body: Any = None, headers: dict[str, str] | None = None, count: int = 1) -> None:
        if body is None:
            body = fixture(f"{self.flavour}_error.json")
        self._push(Scripted(status=status, body=body, headers=headers or {}), count)

    def stall(self, seconds: float, *, count: int = 1) -> None:
        self._push(Scripted(content="{}", stall_s=seconds), count)

    def respond_with(self, responder: Callable[[dict], str] | None) -> None:
        """Answers every unscripted request with `responder(request body)`."""
        self._responder = responder

    def _push(self, scripted: Scripted, count: int) -> None:
        with self._script_lock:
            self._script.extend(copy.deepcopy(scripted) for _ in range(count))

    def _next(self, params: dict) -> Scripted:
        with self._script_lock:
            if self._script:
                return self._script.popleft()
        if self._responder is not None:
            return Scripted(content=self._responder(params))
        return Scripted(status=500, body={"error": {"message": "nothing scripted", "type": "api_error"}})

    # ----- routes -----------------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/chat/completions", self._chat), web.get("/v1/models", self._models)]

    async def _models(self, request: web.Request) -> web.Response:
        call = self._record(Call("models", {}, {}, time.monotonic(), request.method, request.path))
        body = fixture(f"{self.flavour}_models.json")
        body["data"][0]["id"] = self.model
        self._answer(call, 200, body)
        return web.json_response(body)

    async def _chat(self, request: web.Request) -> web.Response:
        params = await request.json()
        call = self._record(Call("chat.completions", params, {}, time.monotonic(), request.method, request.path))
        call.params["_headers"] = {"authorization": request.headers.get("Authorization", "")}
        scripted = await asyncio.to_thread(self._next, params)
        if scripted.stall_s:
            await self._sleep(scripted.stall_s)
        if scripted.status >= 400:
            self._answer(call, scripted.status, scripted.body)
            return web.json_response(scripted.body, status=scripted.status, headers=scripted.headers)
        body = fixture(f"{self.flavour}_chat_completion.json")
        body["model"] = params.get("model", self.model)
        body["created"] = int(time.time())
        body["choices"][0]["message"]["content"] = scripted.content
        body["choices"][0]["finish_reason"] = scripted.finish_reason
        prompt = sum(len(str(message.get("content", "")).split()) for message in params.get("messages", []))
        completion = len((scripted.content or "").split())
        body["usage"].update(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
        self._answer(call, 200, body)
        return web.json_response(body)
