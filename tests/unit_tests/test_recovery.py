"""Rebuilding a lost thread-index entry from the database."""

from __future__ import annotations

from agent.server.recovery import thread_metadata


def test_recovered_thread_keeps_graph_and_owner() -> None:
    metadata = {"graph_id": "chatbot", "langgraph_auth_user_id": "alice", "step": 3}
    assert thread_metadata(metadata) == {"graph_id": "chatbot", "owner": "alice"}
    assert thread_metadata({"langgraph_auth_user_id": ""}) == {}
