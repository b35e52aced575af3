"""Build the prompt the model sees: system prompt plus history within a token budget."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AnyMessage, BaseMessage, SystemMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately


def render_system_prompt(template: str, language: str) -> SystemMessage:
    """Fill the system prompt template with the reply language.

    Raises:
        ValueError: the template has a placeholder other than ``{language}``.
    """
    try:
        return SystemMessage(content=template.format(language=language))
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"The system prompt template {template!r} cannot be filled ({error!r}): "
            "the only placeholder it may use is {language}; write literal braces as {{ and }}."
        ) from error


def count_tokens(messages: Sequence[BaseMessage]) -> int:
    """Count the tokens of ``messages`` without any network access.

    ``ChatOpenAI.get_num_tokens_from_messages`` needs tiktoken, which downloads
    its encoding on first use; LangChain's approximate counter (about four
    characters a token plus per-message overhead) works everywhere.
    """
    return count_tokens_approximately(messages)


def build_prompt(
    history: Sequence[AnyMessage], *, system: SystemMessage, max_tokens: int
) -> list[BaseMessage]:
    """Return the system message and the newest whole messages that fit ``max_tokens``.

    The kept history starts on a human message, so the model never sees a reply
    without the question it answers; a message is never cut in half.
    """
    trimmed = trim_messages(
        [system, *history],
        max_tokens=max_tokens,
        token_counter=count_tokens,
        strategy="last",
        include_system=True,
        start_on="human",
        allow_partial=False,
    )
    return list(trimmed)
