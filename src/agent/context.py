"""Run-time context: the knobs a caller (or LangGraph Studio's form) can set per run.

Defaults come from environment variables read when the module is imported
(when the server starts), so Studio shows the effective values, a deployment is
configured by its environment, and a single run can still override any field
through ``context={...}``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TypeVar

from agent import prompts

EMBEDDED_MODEL_NAME = "gemma-3-270m"
"""The model name reported for the embedded local model."""

_Number = TypeVar("_Number", int, float)

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
"""The model used when only ``OPENAI_API_KEY`` is configured."""


def default_model_name() -> str:
    """Return the model name implied by the environment.

    ``CHATBOT_MODEL`` wins; otherwise an OpenAI key alone means OpenAI's default
    model, and no key and no base URL means the embedded model.
    """
    if configured := os.environ.get("CHATBOT_MODEL"):
        return configured
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return OPENAI_DEFAULT_MODEL
    return EMBEDDED_MODEL_NAME


def env_number(name: str, default: _Number) -> _Number:
    """Read a number of ``default``'s type from ``$name``, naming the variable if it is not one."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    kind = type(default)
    try:
        return kind(raw)
    except ValueError:
        what = "whole number" if kind is int else "number"
        raise ValueError(f"{name}={raw!r} is not a {what}; set it to e.g. {default}.") from None


def _env_flag(name: str, default: bool) -> bool:
    """Read a yes/no value from ``$name``."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r} is not a yes/no value; set it to true or false.")


@dataclass(kw_only=True)
class Context:
    """Per-run settings of the chatbot, rendered as a form in LangGraph Studio."""

    model: str = field(
        default=default_model_name(),
        metadata={
            "description": "Name of the chat model, as the OpenAI-compatible endpoint knows it "
            "(e.g. gpt-4o-mini, llama3.2). Default: $CHATBOT_MODEL, else gpt-4o-mini with an "
            "OpenAI key, else the embedded gemma-3-270m."
        },
    )
    system_prompt: str = field(
        default=os.environ.get("CHATBOT_SYSTEM_PROMPT", prompts.SYSTEM_PROMPT),
        metadata={
            "description": "System prompt template. {language} is replaced by the thread's "
            "reply language. Default: $CHATBOT_SYSTEM_PROMPT or a helpful-assistant prompt."
        },
    )
    temperature: float = field(
        default=env_number("CHATBOT_TEMPERATURE", 0.0),
        metadata={
            "description": "Sampling temperature (0 = deterministic, up to 2). "
            "Default: $CHATBOT_TEMPERATURE or 0."
        },
    )
    max_history_tokens: int = field(
        default=env_number("CHATBOT_MAX_HISTORY_TOKENS", 2000),
        metadata={
            "description": "Token budget of the prompt sent to the model (system prompt plus "
            "history); older turns beyond it are left out. "
            "Default: $CHATBOT_MAX_HISTORY_TOKENS or 2000."
        },
    )

    summarize: bool = field(
        default=_env_flag("CHATBOT_SUMMARIZE", True),
        metadata={
            "description": "Fold turns that no longer fit max_history_tokens into a running "
            "summary kept in the thread (true), or just leave them out of the prompt (false). "
            "Default: $CHATBOT_SUMMARIZE or true."
        },
    )

    def __post_init__(self) -> None:
        """Reject values that cannot work, naming the field and what to do."""
        if not self.model.strip():
            raise ValueError("context.model is empty: name a chat model, e.g. gpt-4o-mini.")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"context.temperature={self.temperature} is out of range: use 0 to 2.")
        if self.max_history_tokens < 16:
            raise ValueError(
                f"context.max_history_tokens={self.max_history_tokens} is too small: "
                "use at least 16 (default 2000)."
            )
