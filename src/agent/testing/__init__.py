"""The harness the tests and the benchmarks share (development only).

``dev_server`` runs a real ``langgraph dev`` serving this checkout in a
directory of its own, ``scripted_model`` is an OpenAI-compatible server that
answers by script (and fails on schedule), ``fake_chat_model`` is an
in-process chat model that records its prompts, and ``turns`` builds run input.
Nothing in the deployed chatbot imports this package.
"""
