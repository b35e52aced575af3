"""What a turn reads and how it asks the model: shared by the reply and its housekeeping.

A turn belongs to a user and a thread (:class:`Thread`); it reads the
thread's newest summary and the user's facts in one store round trip
(:func:`what_is_known`), builds the system prompt and the prompt from them,
and streams the model's answer (:func:`ask`). Background calls are marked
(:func:`for_background`) so they never reach a client's stream and the model
server can tell them from replies.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import openai
from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    SystemMessage,
    message_chunk_to_message,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.constants import TAG_NOSTREAM
from langgraph.store.base import BaseStore, Item
from langgraph.store.memory import InMemoryStore

from agent import LOCAL_USER
from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.prompt import (
    TokenCounter,
    build_prompt,
    count_tokens,
    render_system_prompt,
    worked_exchange,
)
from agent.conversation.prompts import NOTHING_REMEMBERED
from agent.memory import earlier, keeper
from agent.memory.facts import MEMORY_SHARE, Fact, memory_section
from agent.models.endpoint import (
    ModelCallError,
    describe,
    explain_failure,
    resolve_endpoint,
    uses_embedded_model,
)
from agent.models.gate import ModelGate, gate
from agent.models.token_count import counter_for_model
from agent.storage import search

logger = logging.getLogger(__name__)

OPT_OUT_VALUES = (False, "false", "no", "off", "0")
"""Values of a thread's ``remember`` metadata that keep its turns out of memory."""

PURPOSE_HEADER = "X-Chatbot-Purpose"
"""HTTP header naming why a background request is sent (``summary``, ``memory``, ``warm-up``)."""

THREADLESS_SUMMARIES = InMemoryStore()
"""Where summaries go when the graph is compiled without a store (this process only)."""


@dataclass(frozen=True)
class Thread:
    """Whose conversation a run is, and whether it may use their memory."""

    user_id: str
    thread_id: str
    remembering: bool


def user_id(config: RunnableConfig) -> str:
    """Return the authenticated user the LangGraph server runs this turn for."""
    return str(config.get("configurable", {}).get("langgraph_auth_user_id") or LOCAL_USER)


def remembering(context: Context, config: RunnableConfig) -> bool:
    """Tell whether this run may read and save the user's memory.

    Off when the context says ``remember: false`` or the thread's metadata
    says ``remember: false`` (the server merges thread metadata into the
    run's).
    """
    flag = config.get("metadata", {}).get("remember", True)
    opted_out = flag in OPT_OUT_VALUES or str(flag).strip().lower() in OPT_OUT_VALUES
    return context.remember and not opted_out


def thread_of(context: Context, config: RunnableConfig) -> Thread:
    """Return whose conversation this run is, from its config."""
    thread_id = str(config.get("configurable", {}).get("thread_id") or "")
    return Thread(user_id(config), thread_id, remembering(context, config))


def model_gate() -> ModelGate:
    """Return the gate that lets replies pass background calls (exclusive for the embedded model)."""
    return gate(exclusive=uses_embedded_model())


def _approximate(text: str) -> int:
    return count_tokens([SystemMessage(content=text)])


async def what_is_known(
    store: BaseStore | None, thread: Thread, messages: Sequence[AnyMessage], summarize: bool
) -> tuple[summaries.Summary, list[Fact]]:
    """Return the branch's newest summary and the user's facts, in one store round trip.

    A store that fails to read the facts leaves them out (logged): memory never
    fails a turn.
    """
    if store is None:
        summary = summaries.Summary()
        if summarize:
            summary = await summaries.latest(
                THREADLESS_SUMMARIES, thread.user_id, thread.thread_id, messages
            )
        return summary, []
    wanted = [
        *([summaries.latest_op(thread.user_id, thread.thread_id)] if summarize else []),
        *([keeper.recall_op(thread.user_id)] if thread.remembering else []),
    ]
    if not wanted:
        return summaries.Summary(), []
    try:
        results = await store.abatch(wanted)
    except Exception:
        if not thread.remembering:
            raise
        logger.exception("Could not read the user's memory; answering without it")
        return await what_is_known(store, replace(thread, remembering=False), messages, summarize)
    found = [cast(list[Item], result) for result in results]
    summary = summaries.newest_in(found[0], messages) if summarize else summaries.Summary()
    facts = keeper.facts_in(found[-1], thread.user_id) if thread.remembering else []
    return summary, facts


def system_message(
    context: Context, language: str, summary: str, facts: Sequence[Fact], newest: str
) -> SystemMessage:
    """Return the system prompt: template, then the most relevant facts within their share.

    With no fact of the user, it says so (a model told nothing invents what it is
    asked), within the same share: a tiny budget keeps its room for the messages.
    """
    share = context.max_history_tokens // MEMORY_SHARE
    section, _kept = memory_section(facts, share, _approximate, relevant_to=newest)
    if not facts and _approximate(NOTHING_REMEMBERED) <= share:
        section = NOTHING_REMEMBERED
    return render_system_prompt(context.system_prompt, language, summary, section)


def compose(
    system: SystemMessage,
    recent: Sequence[AnyMessage],
    context: Context,
    count: TokenCounter,
    language: str,
    earlier: Sequence[BaseMessage] = (),
) -> list[BaseMessage]:
    """Return the prompt: system message, worked exchange, newest whole messages that fit.

    The exchange is in ``language``, the reply language (``worked_exchange``);
    ``earlier`` (what earlier conversations said: :func:`earlier_said`) goes
    just before the newest message.
    """
    return build_prompt(
        recent,
        system=system,
        max_tokens=context.max_history_tokens,
        count=count,
        before=worked_exchange(language),
        beside_newest=earlier,
    )


async def earlier_said(
    store: BaseStore | None, thread: Thread, newest: str, language: str | None = None
) -> list[BaseMessage]:
    """Return what the user's earlier conversations said that ``newest`` asks about, if any.

    ``newest`` is read in ``language`` for a past day or week it names.

    Read from the search index in the database the server's saver holds open,
    leaving out what the user forgot (the markers in ``store``); nothing when
    memory is off for the thread, or without that database.
    """
    if not thread.remembering:
        return []
    index = search.open_index()
    return await earlier.recalled(index, store, thread.user_id, thread.thread_id, newest, language)


async def counter(count: TokenCounter | None, messages: Sequence[BaseMessage]) -> TokenCounter:
    """Return ``count`` if fixed (tests), else the token counter that matches the model."""
    return count if count is not None else await counter_for_model(messages)


async def ask(model: Runnable[Any, BaseMessage], prompt: list[BaseMessage]) -> BaseMessage:
    """Stream the model's reply; turn a client failure into a clear error.

    The reply is always requested as a stream, whether or not the run streams
    it on to its client, so the read timeout applies between tokens rather than
    to the whole reply, and a failure can be told apart by whether it struck
    before the reply began (retried by the client) or in its middle (not).
    """
    reply: BaseMessageChunk | None = None
    try:
        async for message in model.astream(prompt):
            chunk = cast(BaseMessageChunk, message)  # chat models stream chunks
            reply = chunk if reply is None else reply + chunk
    except openai.OpenAIError as error:
        raise explain_failure(error, resolve_endpoint(), mid_reply=reply is not None) from error
    if reply is None:
        raise ModelCallError(
            f"The chat model failed: {describe(resolve_endpoint())} sent no reply."
        )
    return message_chunk_to_message(reply)


def for_background(model: Runnable[Any, BaseMessage], purpose: str) -> Runnable[Any, BaseMessage]:
    """Return ``model`` marked as background work: never streamed to a client, purpose named."""
    marked = model.bind(extra_headers={PURPOSE_HEADER: purpose})
    return marked.with_config(tags=[TAG_NOSTREAM])
