"""The state a conversation thread keeps between turns, and the part a client may write.

``messages`` is the whole transcript: every message the user and the bot
exchanged, in order, however long the conversation. It accumulates through
LangGraph's message reducer (new messages are appended, a message with a
known id replaces that message) in a ``DeltaChannel``, so each checkpoint
stores only the messages its step added, not the whole list again: storage
grows linearly with the conversation although many checkpoints are kept for
time travel.

The running ``summary`` and the token budget shape only the prompt the model
sees: ``summary`` covers the messages up to ``summarized_through`` (a
message id), and the prompt holds that summary plus the messages after it.
Summaries are folded off the reply's path and kept in the store
(``agent.conversation.summaries``); these two fields show the one the latest
reply used.
"""

from __future__ import annotations

from typing import Annotated, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.message import _messages_delta_reducer
from typing_extensions import TypedDict

SNAPSHOT_EVERY = 400
"""Message writes between full copies of the transcript in a checkpoint (DeltaChannel).

Reading a thread replays the writes since the last copy. Pruning old turns
(``agent.storage.retention``) also leaves a copy at the oldest kept turn, so
this periodic one mostly bounds the replay when every turn is kept.
"""

Transcript = Annotated[
    list[AnyMessage], DeltaChannel(_messages_delta_reducer, snapshot_frequency=SNAPSHOT_EVERY)
]
"""Every message of the thread, stored as per-step deltas."""


class InputState(TypedDict):
    """What a run's input may set: new messages and the thread's reply language.

    ``language`` is a plain value: a turn that sets it changes the thread's
    reply language, a turn that omits it keeps the earlier value, and an empty
    value (or "auto") lets the bot answer in the language the user writes.
    """

    messages: Transcript
    language: NotRequired[str]


class State(InputState):
    """One conversation thread: its transcript, language and running summary.

    ``reply_language`` (the language the latest reply was asked for: the one
    set, else the one the user wrote in), ``summary`` and
    ``summarized_through`` are written by the graph only; run input cannot
    set them.
    """

    reply_language: NotRequired[str]
    summary: NotRequired[str]
    summarized_through: NotRequired[str]
