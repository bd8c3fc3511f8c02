"""A client for an OpenAI-compatible chat-completions endpoint (NEWSBOT_LLM_URL).

llama.cpp's server, Ollama, vLLM and hosted services all answer `POST .../chat/completions`
with `{"choices": [{"message": {"content": "..."}}]}`. The endpoint is the operator's own
setting (often a model on localhost), so it is not put behind the feeds' address guard.
Only one story's text is ever sent (bot/core/enrichment.py builds the prompt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot import __version__
from bot.core.enrichment import Prompt


class ModelError(Exception):
    """The model gave no usable answer (HTTP error, 429, garbage); the caller falls back."""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    url: str
    model: str
    api_key: str | None = None
    timeout: float = 10.0
    max_tokens: int = 200


class ChatModel:
    """One aiohttp session; create inside a running event loop."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            headers = {"User-Agent": f"newsbot/{__version__}", "Content-Type": "application/json"}
            if self.settings.api_key:
                headers["Authorization"] = f"Bearer {self.settings.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None

    async def complete(self, prompt: Prompt) -> str:
        """The model's answer to `prompt`; ModelError when there is none to use."""
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            # A digest's list of titles needs more room than one summary.
            "max_tokens": max(self.settings.max_tokens, prompt.max_tokens or 0),
            "temperature": 0.2,
            "stream": False,
        }
        try:
            async with self._get_session().post(self.settings.url, json=body) as resp:
                raw = await resp.content.read(256 * 1024)
                if resp.status == 429:
                    raise ModelError("the model endpoint is rate limiting (429)")
                if resp.status >= 300:
                    raise ModelError(f"the model endpoint answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ModelError(f"the model endpoint failed: {exc!r}") from exc
        return _content(raw)


def _content(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelError("the model endpoint's answer is not a chat completion") from exc
    if not isinstance(content, str) or not content.strip():
        raise ModelError("the model answered nothing")
    return content
