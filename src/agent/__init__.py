"""A chatbot that remembers conversations, served as a LangGraph deployable graph.

The graph lives in :mod:`agent.graph` (``builder``, an uncompiled ``StateGraph``);
the server compiles it with its own checkpointer so threads persist.
"""

GRAPH_ID = "chatbot"
"""The graph id ``langgraph.json`` declares (also its default assistant's id)."""

LOCAL_USER = "local"
"""Whose threads and memory a request is when the server has no user to name (no token)."""
