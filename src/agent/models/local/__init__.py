"""The embedded local model, served by llama-cpp-python: no key, no network.

``weights`` finds the GGUF file (the bundled Qwen2.5-Coder 1.5B Instruct, or
``CHATBOT_MODEL_FILE``), ``chat_formats`` picks the chat format it needs,
``server`` is the model server process (``python -m agent.models.local``),
``tokenizer`` counts prompts as that server will, and ``launcher`` starts and
stops the process from the LangGraph server.
"""
