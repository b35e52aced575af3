"""Long-term memory of the user, across conversations, in the LangGraph store.

``topics`` is the table of what is remembered (one place to change it),
``facts`` says what a fact is and how facts read in the prompt,
``extraction`` finds facts in a user's message (any language), ``keeper``
reads and writes them in a store, ``learning`` brings a user's memory up to
date with a thread after each turn, ``store`` opens the durable store
``langgraph.json`` declares.
"""
