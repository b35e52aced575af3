"""The chatbot graph: fold old turns into the summary when needed, answer, then remember.

The thread's ``messages`` always keep the whole transcript; the summary, the
user's remembered facts and the token budget decide only what the model is
shown. The ``remember`` step runs after the reply is complete (so it never
delays the streamed reply) and saves what the user's message said about them
to their memory in the store; a failure there is logged, never the turn's.

``builder`` is deliberately left uncompiled: the LangGraph server compiles it
with its own checkpointer, which is what gives every thread its memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    SystemMessage,
    message_chunk_to_message,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.config import get_config
from langgraph.constants import TAG_NOSTREAM
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from agent.conversation.context import Context
from agent.conversation.prompt import (
    TokenCounter,
    build_prompt,
    count_tokens,
    message_text,
    remind_language,
    render_system_prompt,
)
from agent.conversation.prompts import DEFAULT_LANGUAGE
from agent.conversation.state import InputState, State
from agent.conversation.summary import (
    bound_summary,
    fold_chunks,
    needs_folding,
    split_for_folding,
    summarizer_prompt,
    unsummarized,
)
from agent.memory import extraction, keeper
from agent.memory.facts import MEMORY_SHARE, Fact, memory_section
from agent.models.endpoint import (
    ModelCallError,
    capped,
    describe,
    explain_failure,
    load_chat_model,
    named,
    resolve_endpoint,
)
from agent.models.token_count import counter_for_model

logger = logging.getLogger(__name__)

ModelLoader = Callable[[Context], BaseChatModel]
"""Returns the chat model for a run's context (swapped for a fake in unit tests)."""

LOCAL_USER = "local"
"""Whose memory a run uses when the server names no user (no auth handler: unit tests)."""

OPT_OUT_VALUES = (False, "false", "no", "off", "0")
"""Values of a thread's ``remember`` metadata that keep its turns out of memory."""


def _system(state: State, context: Context, memory: str = "") -> SystemMessage:
    language = state.get("language") or DEFAULT_LANGUAGE
    return render_system_prompt(context.system_prompt, language, state.get("summary", ""), memory)


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


EXTRACTION_MAX_TOKENS = 64
"""Enough for every kind of fact on its own line; a small model goes on inventing past them."""


def _approximate(text: str) -> int:
    return count_tokens([SystemMessage(content=text)])


async def _memory(store: BaseStore | None, context: Context) -> str:
    """Return the prompt section of the user's facts, within its share of the budget.

    Empty when remembering is off, there is no store or reading it fails (logged):
    memory never fails a turn.
    """
    config = get_config()
    if store is None or not remembering(context, config):
        return ""
    try:
        facts = await keeper.recall(store, user_id(config))
    except Exception:
        logger.exception("Could not read the user's memory; answering without it")
        return ""
    section, _kept = memory_section(facts, context.max_history_tokens // MEMORY_SHARE, _approximate)
    return section


def _recent(state: State) -> list[AnyMessage]:
    """Return the messages the running summary does not cover yet."""
    return unsummarized(state["messages"], state.get("summarized_through"))


async def _ask(model: Runnable[Any, BaseMessage], prompt: list[BaseMessage]) -> BaseMessage:
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


def build_graph(
    model_loader: ModelLoader = load_chat_model, count: TokenCounter | None = None
) -> StateGraph[Any, Any, Any, Any]:
    """Return the uncompiled chatbot graph that calls the model ``model_loader`` gives.

    ``count`` fixes the token counter (tests); by default each step uses the
    one that matches the model in use (``agent.models.token_count``).
    """

    async def counter(messages: Sequence[BaseMessage]) -> TokenCounter:
        return count if count is not None else await counter_for_model(messages)

    async def summarize(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Fold the oldest turns not yet summarized when the prompt would outgrow the budget.

        The summary absorbs them and the marker moves past them; when the prompt
        still fits (or the context turns summarizing off), nothing changes.
        """
        context = runtime.context or Context()
        budget = context.max_history_tokens
        system = _system(state, context, await _memory(runtime.store, context))
        recent = _recent(state)
        tokens = await counter([system, *recent])
        if not context.summarize or not needs_folding(recent, system, budget, tokens):
            return {}
        older, _kept = split_for_folding(recent, budget, tokens)
        if not older or not older[-1].id:
            return {}
        summarizer = model_loader(await named(context)).with_config(tags=[TAG_NOSTREAM])
        summary = state.get("summary", "")
        for chunk in fold_chunks(older):
            reply = await _ask(summarizer, summarizer_prompt(summary, chunk, budget))
            summary = bound_summary(message_text(reply), budget, tokens)
        return {"summary": summary, "summarized_through": older[-1].id}

    async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Answer the newest message, in the thread's language, within the token budget.

        Only a user's message is answered: a run replayed after a crash rewrites
        messages the thread already holds (same ids), and its turn was answered.
        """
        if not state["messages"] or not isinstance(state["messages"][-1], HumanMessage):
            return {}
        context = runtime.context or Context()
        system = _system(state, context, await _memory(runtime.store, context))
        recent = remind_language(_recent(state), state.get("language") or DEFAULT_LANGUAGE)
        prompt = build_prompt(
            recent,
            system=system,
            max_tokens=context.max_history_tokens,
            count=await counter([system, *recent]),
        )
        if not any(isinstance(message, HumanMessage) for message in prompt):
            raise ValueError(
                "The newest message does not fit in the token budget "
                f"(max_history_tokens={context.max_history_tokens}): "
                "send a shorter message or raise max_history_tokens."
            )
        reply = await _ask(model_loader(await named(context)), prompt)
        return {"messages": [reply]}

    async def learn(state: State, context: Context, store: BaseStore) -> None:
        config = get_config()
        user = user_id(config)
        thread_id = str(config.get("configurable", {}).get("thread_id", ""))
        messages = state["messages"]
        await keeper.forget_edited_away(
            store, user, thread_id, {message.id for message in messages if message.id}
        )
        said = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        if said is None or not said.id:
            return
        text = message_text(said)
        known = await keeper.recall(store, user)
        if any(fact.message_id == said.id for fact in known):
            return  # learnt already (a regenerated reply)
        if not extraction.worth_asking(text):
            return
        extractor = capped(model_loader(await named(context)), EXTRACTION_MAX_TOKENS)
        extractor = extractor.with_config(tags=[TAG_NOSTREAM])
        answer = message_text(await _ask(extractor, extraction.prompt(text)))
        facts = [
            Fact(fact.kind, fact.text, thread_id=thread_id, message_id=said.id, said=text[:500])
            for fact in extraction.parse(answer, text)
        ]
        await keeper.save(store, user, facts)
        if facts:
            logger.info("Remembered %s for user %s", ", ".join(f.kind for f in facts), user)

    async def remember(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Save what the user's newest message says about them to their memory.

        Runs after the reply is complete, so it never delays the streamed reply.
        Facts learnt in this thread from messages its branch no longer holds (an
        edited message) are forgotten first. A failure is logged, never raised.
        """
        context = runtime.context or Context()
        if runtime.store is None or not remembering(context, get_config()):
            return {}
        try:
            await learn(state, context, runtime.store)
        except Exception:
            logger.exception("The memory step failed; the reply is saved, nothing was remembered")
        return {}

    graph = StateGraph(State, input_schema=InputState, context_schema=Context)
    graph.add_node("summarize", summarize)
    graph.add_node("model", call_model)
    graph.add_node("remember", remember)
    # Plain edges, no routing function: a fork written with update_state (RemoteGraph,
    # Studio) as "__start__" then runs on with no context needed to pick a path.
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", "model")
    graph.add_edge("model", "remember")
    return graph


builder = build_graph()
"""The graph ``langgraph.json`` declares, compiled by the server."""
