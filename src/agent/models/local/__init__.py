"""The embedded local model: Gemma 3 270M served by llama-cpp-python.

``transcript`` formats a chat as the plain transcript the base model continues,
``server`` is the model server process (``python -m agent.models.local``), and
``launcher`` starts and stops that process from the LangGraph server.
"""
