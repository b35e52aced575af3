"""Run input for tests and benchmarks: one user message, and small talk."""

from __future__ import annotations

from typing import Any

from agent import GRAPH_ID

__all__ = ["GRAPH_ID", "SMALL_TALK", "user"]

SMALL_TALK = [
    "The weather is nice today.",
    "I like walking in the park.",
    "Do you like music?",
    "I had pasta for lunch.",
    "My favourite colour is blue.",
]
"""Turns that carry no fact worth remembering, for long-conversation tests and benches."""


def user(text: str) -> dict[str, Any]:
    """Return the run input for one user message."""
    return {"messages": [{"role": "user", "content": text}]}
