"""Why a turn keeps 3 checkpoints: what fewer would cost (docs/clients.md, "Why not more")."""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from agent.conversation.context import Context

CONTEXT = Context(summarize=False, remember=False)


async def _states(chatbot: CompiledStateGraph[Any, Any, Any, Any], config: Any) -> list[Any]:
    """The thread's states, oldest first."""
    return [state async for state in chatbot.aget_state_history(config)][::-1]


async def test_the_input_checkpoint_does_not_hold_the_message(chatbot) -> None:
    """A StateGraph's input lands in ``__start__``: the message first shows a step later."""
    config = {"configurable": {"thread_id": "input"}}
    for text in ["one", "two"]:
        await chatbot.ainvoke({"messages": [{"role": "user", "content": text}]}, config)
    states = await _states(chatbot, config)
    assert [state.metadata["source"] for state in states[3:]] == ["input", "loop", "loop"]
    contents = [[m.content for m in state.values["messages"]] for state in states[3:]]
    assert contents[0] == ["one", "reply 1"]
    assert contents[1] == ["one", "reply 1", "two"]


async def test_durability_exit_keeps_no_state_to_regenerate_from(chatbot) -> None:
    """One checkpoint a turn: agent-chat-ui's regenerate then re-runs a finished turn, no reply."""
    config = {"configurable": {"thread_id": "exit"}}
    counts = []
    for text in ["one", "two", "three"]:
        await chatbot.ainvoke(
            {"messages": [{"role": "user", "content": text}]},
            config,
            context=CONTEXT,
            durability="exit",
        )
        counts.append(len(await _states(chatbot, config)))
    assert counts[2] - counts[1] == counts[1] - counts[0] == 1
    states = await _states(chatbot, config)
    reply = states[-1].values["messages"][-1]
    # The page's regenerate: no input, from the parent of the oldest state holding the reply.
    first_seen = next(s for s in states if any(m.id == reply.id for m in s.values["messages"]))
    assert [m.content for m in first_seen.values["messages"]][-2:] == ["three", "reply 3"]
    again = await chatbot.ainvoke(None, first_seen.parent_config, context=CONTEXT)
    assert [m.content for m in again["messages"]][-2:] == ["two", "reply 2"]
