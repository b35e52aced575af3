"""Default prompts used by the chatbot."""

SYSTEM_PROMPT = (
    "You are a helpful assistant. Answer all questions to the best of your ability in {language}."
)
"""The default system prompt template; ``{language}`` is the thread's reply language."""

DEFAULT_LANGUAGE = "English"
"""The reply language of a thread that never set one."""
