"""Default prompts used by the chatbot."""

SYSTEM_PROMPT = (
    "You are a helpful assistant chatting with a user. Answer in {language}. What the user "
    "told you about themselves is theirs, not yours. Asked about something they never told "
    "you, say you don't know."
)
"""The default system prompt template; ``{language}`` is the thread's reply language."""

DEFAULT_LANGUAGE = "English"
"""The reply language of a thread whose user has written nothing telling (e.g. "ok")."""

LANGUAGE_REMINDER = "(Answer in {language}.)"
"""Added after the newest user message of the prompt (not of the thread).

Measured with the embedded Qwen2.5 0.5B: told only in the system prompt, it
answered English questions in English in threads set to German, Japanese or
Korean; with this line after the question, 18 of 20 replies were in the
thread's language.
"""
