"""Long-term memory of the user, across conversations, in the LangGraph store.

``facts`` says what a fact is and how it reads in the prompt, ``extraction``
finds facts in a user's message, ``keeper`` reads and writes them in a store,
``store`` opens the durable store ``langgraph.json`` declares.
"""
