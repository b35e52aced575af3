"""A fake chat model for in-process tests and benchmarks that records its prompts.

``RecordingChatModel(reply=...)`` answers every prompt with what ``reply``
returns for it; without ``reply`` it answers from ``messages``, the script of
langchain's ``GenericFakeChatModel`` (streamed word by word all the same).
Every prompt it is given is kept, in order, in ``prompts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

Reply = Callable[[list[BaseMessage]], str]
"""Answers a prompt (the messages the model was given) with a reply's text."""


class RecordingChatModel(GenericFakeChatModel):
    """Records every prompt in ``prompts``; answers by ``reply``, else from ``messages``."""

    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)
    """What each call was asked besides its prompt (``max_tokens``, ``extra_headers``)."""
    reply: Reply | None = None

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        self.options.append(dict(kwargs))
        if self.reply is None:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        answer = AIMessage(content=self.reply(messages))
        return ChatResult(generations=[ChatGeneration(message=answer)])
