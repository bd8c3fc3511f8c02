"""A local OpenAI-compatible chat-completions server for tests.

As strict as the real API where the bot could get it wrong: only `POST
/v1/chat/completions`, a JSON body with a `model` string and a non-empty `messages` list
of {role, content} (roles system/user/assistant), else 400; with `api_key` set, a
missing or wrong bearer token is 401. Every accepted request is recorded (`prompts`).

`mode` shapes the answers: "ok" (a chat completion whose content `reply(system, user)`
writes), "slow" (accepts and never answers until the server stops), "fail" (500), "429"
(rate limited, with Retry-After), "garbage" (200 with a body that is not a completion).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

Mode = Literal["ok", "slow", "fail", "429", "garbage"]
PATH = "/v1/chat/completions"
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class Prompt:
    model: str
    system: str
    user: str


def default_reply(system: str, user: str) -> str:
    if system.startswith("Translate each numbered"):  # a digest's titles: a numbered list
        numbered = (line.partition(". ") for line in user.splitlines())
        return "\n".join(f"{n}. Translated: {title}" for n, _, title in numbered)
    if system.startswith("Translate"):
        return f"Translated: {user}"
    return "A model summary of the story in two sentences. It says what happened."


class FakeLLM:
    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.mode: Mode = "ok"
        self.reply: Callable[[str, str], str] = default_reply
        self.prompts: list[Prompt] = []
        self.refused: list[str] = []  # why each refused request was refused
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()
        self.asked = asyncio.Event()  # set at each accepted request: a test waits on it
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _refuse(self, status: int, why: str) -> web.Response:
        self.refused.append(why)
        return web.json_response({"error": {"message": why}}, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path != PATH:
            return self._refuse(404, f"no route {request.path}")
        if request.method != "POST":
            return self._refuse(405, f"method {request.method}")
        if self.api_key is not None and (
            request.headers.get("Authorization") != f"Bearer {self.api_key}"
        ):
            return self._refuse(401, "missing or wrong API key")
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            return self._refuse(400, "body is not JSON")
        problem = _invalid(body)
        if problem:
            return self._refuse(400, problem)
        messages = body["messages"]
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        user = "\n".join(m["content"] for m in messages if m["role"] == "user")
        self.prompts.append(Prompt(body["model"], system, user))
        self.asked.set()
        if self.mode == "slow":
            await self._released.wait()
            return web.Response(status=503)
        if self.mode == "fail":
            return web.json_response({"error": {"message": "model crashed"}}, status=500)
        if self.mode == "429":
            return web.json_response(
                {"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "20"}
            )
        if self.mode == "garbage":
            return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.prompts)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.reply(system, user)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not an object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in _ROLES:
            return "each message needs a role of system, user or assistant"
        if not isinstance(m.get("content"), str):
            return "each message needs a string content"
    return None
