"""The state a conversation thread keeps between turns."""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class State(TypedDict):
    """One conversation thread.

    ``messages`` accumulates through ``add_messages`` (new turns are appended,
    a message with a known id replaces that message). ``language`` is a plain
    value: a turn that sets it changes the thread's reply language, a turn that
    omits it keeps the earlier value. ``summary`` is the running summary of the
    turns that were folded out of ``messages`` once the history outgrew the
    token budget.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    language: NotRequired[str]
    summary: NotRequired[str]
