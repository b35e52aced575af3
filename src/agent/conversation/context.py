"""Run-time context: the knobs a caller (or LangGraph Studio's form) can set per run.

Defaults come from environment variables read when the module is imported
(when the server starts), so Studio shows the effective values, a deployment is
configured by its environment, and a single run can still override any field
through ``context={...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent import settings
from agent.conversation import prompts


@dataclass(kw_only=True)
class Context:
    """Per-run settings of the chatbot, rendered as a form in LangGraph Studio."""

    model: str = field(
        default=settings.MODEL.get(),
        metadata={
            "description": "Name of the chat model, as the OpenAI-compatible endpoint knows it "
            "(e.g. gpt-4o-mini, llama3.2). Empty: $CHATBOT_MODEL, else the endpoint's own "
            "(gpt-4o-mini on OpenAI, the first model a compatible server lists, the embedded "
            "model)."
        },
    )
    system_prompt: str = field(
        default=settings.SYSTEM_PROMPT.get() or prompts.SYSTEM_PROMPT,
        metadata={
            "description": "System prompt template. {language} is replaced by the thread's "
            "reply language. Default: $CHATBOT_SYSTEM_PROMPT or a helpful-assistant prompt."
        },
    )
    temperature: float = field(
        default=settings.TEMPERATURE.get(),
        metadata={
            "description": "Sampling temperature (0 = deterministic, up to 2). "
            "Default: $CHATBOT_TEMPERATURE or 0."
        },
    )
    max_history_tokens: int = field(
        default=settings.MAX_HISTORY_TOKENS.get(),
        metadata={
            "description": "Token budget of the prompt sent to the model (system prompt plus "
            "history); older turns beyond it are left out. "
            "Default: $CHATBOT_MAX_HISTORY_TOKENS or 2000."
        },
    )

    summarize: bool = field(
        default=settings.SUMMARIZE.get(),
        metadata={
            "description": "Fold turns that no longer fit max_history_tokens into a running "
            "summary kept in the thread (true), or just leave them out of the prompt (false). "
            "Default: $CHATBOT_SUMMARIZE or true."
        },
    )

    remember: bool = field(
        default=settings.REMEMBER.get(),
        metadata={
            "description": "Remember facts the user states about themselves (name, where they "
            "live, likes, plans) across conversations, and use them in replies (true); or "
            "neither read nor save the user's memory in this run (false). A thread opts out "
            "with metadata remember=false. Default: $CHATBOT_REMEMBER or true."
        },
    )

    def __post_init__(self) -> None:
        """Reject values that cannot work, naming the field and what to do."""
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"context.temperature={self.temperature} is out of range: use 0 to 2.")
        if self.max_history_tokens < 16:
            raise ValueError(
                f"context.max_history_tokens={self.max_history_tokens} is too small: "
                "use at least 16 (default 2000)."
            )
