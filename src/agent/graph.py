"""The chatbot graph: one node answers at once; housekeeping follows off the reply's path.

A turn is a single ``model`` step: it writes the reply from the thread's
newest summary, the user's remembered facts and the newest messages that fit
the token budget, in the language the user writes (unless the thread set
one). Everything the bot does for itself afterwards runs in the background
(``agent.chores``, queued by ``agent.housekeeping``), so no reply waits for
it: learning what the user said about themselves, folding old turns into the
summary when the prompt nears its budget, and (for the embedded model)
reading the next prompt's start ahead of time. With one step a turn writes three checkpoints (input,
the user's message, the reply): what edit and regenerate fork from.

The thread's ``messages`` always keep the whole transcript; the summary and
the budget shape only what the model is shown.

``builder`` is deliberately left uncompiled: the LangGraph server compiles it
with its own checkpointer, which is what gives every thread its memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.config import get_config
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from agent.chores import Housework
from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.language import turn_language
from agent.conversation.prompt import TokenCounter, message_text, remind_language
from agent.conversation.state import InputState, State
from agent.conversation.summary import unsummarized
from agent.housekeeping import WORKERS, housekeeper
from agent.memory.facts import instant
from agent.models.endpoint import load_chat_model, named, uses_embedded_model
from agent.turn import (
    Thread,
    ask,
    compose,
    counter,
    earlier_said,
    model_gate,
    system_message,
    thread_of,
    what_is_known,
)

ModelLoader = Callable[[Context], BaseChatModel]
"""Returns the chat model for a run's context (swapped for a fake in unit tests)."""


def _from_state(state: State) -> summaries.Summary:
    """Return the summary the thread's state holds, if its last message is still there."""
    through = state.get("summarized_through")
    if through and any(message.id == through for message in state["messages"]):
        return summaries.Summary(state.get("summary", ""), through)
    return summaries.Summary()


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
        began: str,
    ) -> None:
        """Queue the thread's housekeeping after a reply (``Housework.do``).

        The chore runs on the process's housekeeping loop (the server's main
        loop, which may not be this run's), with the store open there. What it
        learns is dated ``began``, when the turn began, however long it waited.
        """
        keeper = housekeeper(1 if uses_embedded_model() else WORKERS)

        async def chores() -> None:
            model = model_loader(await named(context))
            home_store = keeper.store_for(store)
            work = Housework(
                home_store, thread, messages, context, language, model, count, said_at=began
            )
            await work.do(used)

        keeper.schedule(f"{thread.user_id}/{thread.thread_id}", chores)

    async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Answer the newest message at once, in the user's language, within the token budget.

        Only a user's message is answered: a run replayed after a crash rewrites
        messages the thread already holds (same ids), and its turn was answered.
        """
        messages = list(state["messages"])
        if not messages or not isinstance(messages[-1], HumanMessage):
            return {}
        began = instant()
        context = runtime.context or Context()
        thread = thread_of(context, get_config())
        # Held from the start, not just for the model call: the embedded model's server
        # also counts the prompt's tokens, and a background call in flight there would
        # make the counting (so the reply) wait for it, uncut.
        async with model_gate().replying():
            newest = message_text(messages[-1])
            said_in = await turn_language(
                state.get("language"), newest, state.get("reply_language")
            )
            language = said_in.reply
            summary, facts = await what_is_known(runtime.store, thread, messages, context.summarize)
            if context.summarize and not summary.through:
                summary = _from_state(state)
            system = system_message(context, language, summary.text, facts, newest)
            recent = unsummarized(messages, summary.through)
            if said_in.needs_restating:
                recent = remind_language(recent, language)
            earlier = await earlier_said(runtime.store, thread, newest, said_in.written or language)
            tokens = await counter(count, [system, *recent])
            prompt = compose(system, recent, context, tokens, language, earlier)
            if not any(isinstance(message, HumanMessage) for message in prompt):
                raise ValueError(
                    "The newest message does not fit in the token budget "
                    f"(max_history_tokens={context.max_history_tokens}): "
                    "send a shorter message or raise max_history_tokens."
                )
            model = model_loader(await named(context))
            reply = await ask(model, prompt)
        branch = [*messages, cast(AnyMessage, reply)]
        schedule(runtime.store, thread, branch, context, language, summary, began)
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
