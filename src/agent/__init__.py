"""A chatbot that remembers conversations, served as a LangGraph deployable graph.

The graph lives in :mod:`agent.graph` (``builder``, an uncompiled ``StateGraph``);
the server compiles it with its own checkpointer so threads persist.
"""
