"""The chatbot graph: one node answers at once; housekeeping follows off the reply's path.

A turn is a single ``model`` step: it writes the reply from the thread's
newest summary, the user's remembered facts and the newest messages that fit
the token budget, in the language the user writes (unless the thread set
one). Everything the bot does for itself afterwards runs in the background
(``agent.housekeeping``), so no reply waits for it: learning what the user
said about themselves, folding old turns into the summary when the prompt
nears its budget, and (for the embedded model) reading the next prompt's
start ahead of time. With one step a turn writes three checkpoints (input,
the user's message, the reply): what edit and regenerate fork from.

The thread's ``messages`` always keep the whole transcript; the summary and
the budget shape only what the model is shown.

``builder`` is deliberately left uncompiled: the LangGraph server compiles it
with its own checkpointer, which is what gives every thread its memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
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
from langgraph.store.base import BaseStore, Item
from langgraph.store.memory import InMemoryStore

from agent import LOCAL_USER
from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.language import reply_language_async
from agent.conversation.prompt import (
    TokenCounter,
    build_prompt,
    count_tokens,
    message_text,
    remind_language,
    render_system_prompt,
)
from agent.conversation.state import InputState, State
from agent.conversation.summary import (
    bound_summary,
    fold_chunks,
    needs_folding,
    split_for_folding,
    summarizer_prompt,
    unsummarized,
)
from agent.housekeeping import WORKERS, housekeeper
from agent.memory import keeper, learning
from agent.memory.facts import MEMORY_SHARE, Fact, memory_section
from agent.models.endpoint import (
    ModelCallError,
    ModelNotConfiguredError,
    capped,
    describe,
    explain_failure,
    load_chat_model,
    named,
    resolve_endpoint,
    uses_embedded_model,
)
from agent.models.gate import ModelGate, Patience, gate
from agent.models.token_count import counter_for_model

logger = logging.getLogger(__name__)

ModelLoader = Callable[[Context], BaseChatModel]
"""Returns the chat model for a run's context (swapped for a fake in unit tests)."""

OPT_OUT_VALUES = (False, "false", "no", "off", "0")
"""Values of a thread's ``remember`` metadata that keep its turns out of memory."""

EXTRACTION_MAX_TOKENS = 96
"""Enough for a few facts on their own lines; a small model goes on inventing past them."""

WARM_UP_TOKENS = 1
"""Tokens asked for when the embedded model reads the next prompt's start ahead of time."""

PURPOSE_HEADER = "X-Chatbot-Purpose"
"""HTTP header naming why a background request is sent (``summary``, ``memory``, ``warm-up``)."""

_THREADLESS_SUMMARIES = InMemoryStore()
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


def _thread(context: Context, config: RunnableConfig) -> Thread:
    thread_id = str(config.get("configurable", {}).get("thread_id") or "")
    return Thread(user_id(config), thread_id, remembering(context, config))


def _reads_prompts_ahead() -> bool:
    """Tell whether the model is the running embedded server, whose prompt cache a warm-up fills."""
    try:
        return resolve_endpoint().kind == "embedded"
    except ModelNotConfiguredError:
        return False


def model_gate() -> ModelGate:
    """Return the gate that lets replies pass background calls (exclusive for the embedded model)."""
    return gate(exclusive=uses_embedded_model())


def _from_state(state: State) -> summaries.Summary:
    """Return the summary the thread's state holds, if its last message is still there."""
    through = state.get("summarized_through")
    if through and any(message.id == through for message in state["messages"]):
        return summaries.Summary(state.get("summary", ""), through)
    return summaries.Summary()


def _approximate(text: str) -> int:
    return count_tokens([SystemMessage(content=text)])


async def _what_is_known(
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
                _THREADLESS_SUMMARIES, thread.user_id, thread.thread_id, messages
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
        return await _what_is_known(store, replace(thread, remembering=False), messages, summarize)
    found = [cast(list[Item], result) for result in results]
    summary = summaries.newest_in(found[0], messages) if summarize else summaries.Summary()
    facts = keeper.facts_in(found[-1], thread.user_id) if thread.remembering else []
    return summary, facts


def _system(
    context: Context, language: str, summary: str, facts: Sequence[Fact], newest: str
) -> SystemMessage:
    """Return the system prompt: template, then the most relevant facts within their share."""
    section, _kept = memory_section(
        facts, context.max_history_tokens // MEMORY_SHARE, _approximate, relevant_to=newest
    )
    return render_system_prompt(context.system_prompt, language, summary, section)


def _compose(
    system: SystemMessage,
    recent: Sequence[AnyMessage],
    context: Context,
    count: TokenCounter,
) -> list[BaseMessage]:
    """Return the prompt: the system message and the newest whole messages that fit."""
    return build_prompt(recent, system=system, max_tokens=context.max_history_tokens, count=count)


async def _counter(count: TokenCounter | None, messages: Sequence[BaseMessage]) -> TokenCounter:
    return count if count is not None else await counter_for_model(messages)


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


def _for_background(model: Runnable[Any, BaseMessage], purpose: str) -> Runnable[Any, BaseMessage]:
    """Return ``model`` marked as background work: never streamed to a client, purpose named."""
    marked = model.bind(extra_headers={PURPOSE_HEADER: purpose})
    return marked.with_config(tags=[TAG_NOSTREAM])


@dataclass(frozen=True)
class Housework:
    """A thread's housekeeping after a reply: what it works from, and each chore.

    Every chore reads the store afresh and may be done again (a newer turn's
    housework replaces this one; a lost one is found due at the next turn).
    """

    store: BaseStore | None
    thread: Thread
    messages: list[AnyMessage]
    """The branch's messages, the reply included."""
    context: Context
    language: str
    model: Any
    count: TokenCounter | None = None
    """Fixed token counter (tests); by default the one matching the model."""

    @property
    def summary_store(self) -> BaseStore:
        """Where this thread's summaries are kept."""
        return self.store if self.store is not None else _THREADLESS_SUMMARIES

    async def do(self, used: summaries.Summary) -> None:
        """Warm up, fold, learn, then warm up again if the prompt's start changed.

        ``used`` is the summary the reply used; one that only the thread's state
        held (folded before summaries moved to the store) is saved there first.
        A warm-up comes first: it is short (the last exchange), and the next
        reply reuses it. Then the fold (memory can wait a turn, a reply short
        of its turns cannot), then memory.
        """
        user, thread_id = self.thread.user_id, self.thread.thread_id
        if used.through and not await summaries.exists(
            self.summary_store, user, thread_id, used.through
        ):
            await summaries.save(self.summary_store, user, thread_id, used)
        reads_ahead = _reads_prompts_ahead()
        if reads_ahead:
            await self.warm_up()
        folded = self.context.summarize and await self.fold()
        learnt = self.thread.remembering and await self.learn()
        if reads_ahead and (folded or learnt):
            await self.warm_up()

    async def _read(self, summarize: bool) -> tuple[summaries.Summary, list[Fact]]:
        """Return the branch's newest summary and the user's facts, as a reply reads them."""
        return await _what_is_known(self.store, self.thread, self.messages, summarize)

    def _system(self, summary: str, facts: Sequence[Fact]) -> SystemMessage:
        return _system(self.context, self.language, summary, facts, "")

    async def learn(self) -> bool:
        """Save what the user's messages of this branch state about them; tell whether any.

        (``memory.learning`` logs what it saved.)
        """
        if self.store is None:
            return False
        extractor = _for_background(capped(self.model, EXTRACTION_MAX_TOKENS), "memory")

        async def ask(prompt: list[BaseMessage]) -> str:
            reply = await model_gate().background(partial(_ask, extractor, prompt))
            return message_text(reply)

        user, thread_id = self.thread.user_id, self.thread.thread_id
        return bool(await learning.learn(self.store, user, thread_id, self.messages, ask))

    async def fold(self) -> bool:
        """Fold the oldest turns the summary lacks when the prompt nears its budget.

        Returns whether a new summary was saved. A fold saved already (the same
        last message) is not done again.
        """
        summary, facts = await self._read(summarize=True)
        system = self._system(summary.text, facts)
        recent = unsummarized(self.messages, summary.through)
        tokens = await _counter(self.count, [system, *recent])
        budget = self.context.max_history_tokens
        if not needs_folding(recent, system, budget, tokens):
            return False
        fixed = tokens([self._system("", facts)])
        older, _kept = split_for_folding(recent, budget, tokens, fixed)
        through = older[-1].id if older else None
        user, thread_id = self.thread.user_id, self.thread.thread_id
        if not through or await summaries.exists(self.summary_store, user, thread_id, through):
            return False
        summarizer = _for_background(self.model, "summary")
        # Urgent once replies leave out turns no summary covers: then a reply may wait
        # for a summarizer call rather than let a user who never pauses starve the fold.
        # Begun early, it is done only between replies, and a reply that cuts in ends it.
        urgent = tokens([system, *recent]) > budget
        patience = Patience()
        text = summary.text
        for chunk in fold_chunks(older):
            prompt = summarizer_prompt(text, chunk, budget, self.language)
            call = partial(_ask, summarizer, prompt)
            if urgent:
                reply = await model_gate().background(call, patience)
            elif (early := await model_gate().unless_cut(call)) is not None:
                reply = early
            else:
                return False  # begun early and cut by a reply: the next turn tries again
            text = bound_summary(message_text(reply), budget, tokens)
        await summaries.save(self.summary_store, user, thread_id, summaries.Summary(text, through))
        return True

    async def warm_up(self) -> None:
        """Have the embedded model read the next prompt's start now, while nobody waits.

        Its server keeps the state of recent prompts: the next reply then reads
        only the new message, even after a fold changed the summary. The prompt
        is built as the next reply's will be, from the same store read. A reply
        that cuts in ends it for good (that reply read its prompt itself), so a
        user who never pauses does not hold the fold behind it.
        """
        summary, facts = await self._read(self.context.summarize)
        system = self._system(summary.text, facts)
        recent = unsummarized(self.messages, summary.through)
        prompt = _compose(
            system, recent, self.context, await _counter(self.count, [system, *recent])
        )
        reader = _for_background(capped(self.model, WARM_UP_TOKENS), "warm-up")
        await model_gate().unless_cut(partial(_ask, reader, prompt))


def build_graph(
    model_loader: ModelLoader = load_chat_model, count: TokenCounter | None = None
) -> StateGraph[Any, Any, Any, Any]:
    """Return the uncompiled chatbot graph that calls the model ``model_loader`` gives.

    ``count`` fixes the token counter (tests); by default each step uses the
    one that matches the model in use (``agent.models.token_count``).
    """

    def schedule(
        store: BaseStore | None,
        thread: Thread,
        messages: list[AnyMessage],
        context: Context,
        language: str,
        used: summaries.Summary,
    ) -> None:
        """Queue the thread's housekeeping after a reply (``Housework.do``)."""

        async def chores() -> None:
            model = model_loader(await named(context))
            work = Housework(store, thread, messages, context, language, model, count)
            await work.do(used)

        workers = 1 if uses_embedded_model() else WORKERS
        housekeeper(workers).schedule(f"{thread.user_id}/{thread.thread_id}", chores)

    async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Answer the newest message at once, in the user's language, within the token budget.

        Only a user's message is answered: a run replayed after a crash rewrites
        messages the thread already holds (same ids), and its turn was answered.
        """
        messages = list(state["messages"])
        if not messages or not isinstance(messages[-1], HumanMessage):
            return {}
        context = runtime.context or Context()
        thread = _thread(context, get_config())
        newest = message_text(messages[-1])
        language = await reply_language_async(
            state.get("language"), newest, state.get("reply_language")
        )
        summary, facts = await _what_is_known(runtime.store, thread, messages, context.summarize)
        if context.summarize and not summary.through:
            summary = _from_state(state)
        system = _system(context, language, summary.text, facts, newest)
        recent = remind_language(unsummarized(messages, summary.through), language)
        prompt = _compose(system, recent, context, await _counter(count, [system, *recent]))
        if not any(isinstance(message, HumanMessage) for message in prompt):
            raise ValueError(
                "The newest message does not fit in the token budget "
                f"(max_history_tokens={context.max_history_tokens}): "
                "send a shorter message or raise max_history_tokens."
            )
        model = model_loader(await named(context))
        async with model_gate().replying():
            reply = await _ask(model, prompt)
        schedule(
            runtime.store, thread, [*messages, cast(AnyMessage, reply)], context, language, summary
        )
        update: dict[str, Any] = {"messages": [reply], "reply_language": language}
        if summary.through and summary.through != state.get("summarized_through"):
            update |= {"summary": summary.text, "summarized_through": summary.through}
        return update

    graph = StateGraph(State, input_schema=InputState, context_schema=Context)
    graph.add_node("model", call_model)
    # One plain edge: a fork written with update_state (RemoteGraph, Studio) as
    # "__start__" then runs on with no context needed to pick a path.
    graph.add_edge(START, "model")
    return graph


builder = build_graph()
"""The graph ``langgraph.json`` declares, compiled by the server."""
