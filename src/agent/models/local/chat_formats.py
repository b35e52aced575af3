"""Pick the chat format a GGUF model needs, from its metadata.

The bundled Qwen2.5 model always uses llama-cpp-python's built-in ``chatml``
handler: its file's own template is never rendered. For a user's model file
(``CHATBOT_MODEL_FILE``), ``CHATBOT_CHAT_FORMAT`` wins when set; otherwise the
format is read off the file's chat template (its special tokens) or, with no
template, its architecture; a template of another kind is used as written by
llama-cpp-python, which renders it in a sandboxed Jinja environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GEMMA = "chatbot-gemma"
"""Gemma's turns, with the system prompt put in the first user turn (Gemma has no system role).

llama-cpp-python's own ``gemma`` format drops the system message, and with it
the reply language and the running summary.
"""

TEMPLATE_MARKERS = (
    ("<|im_start|>", "chatml"),
    ("<|start_header_id|>", "llama-3"),
    ("<start_of_turn>", GEMMA),
    ("[INST]", "mistral-instruct"),
)
"""Special tokens of a chat template, and the built-in format that writes them."""

ARCHITECTURE_FORMATS = {
    "qwen2": "chatml",
    "qwen2moe": "chatml",
    "qwen3": "chatml",
    "qwen3moe": "chatml",
    "gemma": GEMMA,
    "gemma2": GEMMA,
    "gemma3": GEMMA,
    "llama": "llama-3",
}
"""For a file without a chat template: the format its architecture's instruct models use."""

FILE_TEMPLATE = None
"""Let llama-cpp-python use the file's own chat template."""


class ChatFormatError(ValueError):
    """No chat format fits the model file; the message says what to set."""


def choose_chat_format(
    metadata: Mapping[str, Any], *, bundled: bool, requested: str = ""
) -> str | None:
    """Return the llama-cpp-python chat format for a model with ``metadata``.

    None means the file's own template. ``requested`` is ``CHATBOT_CHAT_FORMAT``.

    Raises:
        ChatFormatError: nothing in the file tells its format and none was requested.
    """
    if requested:
        return requested
    if bundled:
        return "chatml"
    template = str(metadata.get("tokenizer.chat_template") or "")
    for marker, chat_format in TEMPLATE_MARKERS:
        if marker in template:
            return chat_format
    if template:
        return FILE_TEMPLATE
    architecture = str(metadata.get("general.architecture") or "")
    if architecture in ARCHITECTURE_FORMATS:
        return ARCHITECTURE_FORMATS[architecture]
    raise ChatFormatError(
        f"The model file has no chat template and its architecture ({architecture or 'unknown'}) "
        "does not say which chat format it needs: set CHATBOT_CHAT_FORMAT "
        "(e.g. chatml, llama-3, gemma, mistral-instruct)."
    )


def gemma_messages(messages: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return ``messages`` with the system text moved into the first user message."""
    system = "\n\n".join(
        str(message.get("content") or "") for message in messages if message["role"] == "system"
    )
    rest = [dict(message) for message in messages if message["role"] != "system"]
    if system:
        for message in rest:
            if message["role"] == "user":
                message["content"] = f"{system}\n\n{message.get('content') or ''}"
                break
        else:
            rest.insert(0, {"role": "user", "content": system})
    return rest


def register_gemma_format() -> None:
    """Register :data:`GEMMA` with llama-cpp-python (Gemma's own turns and stop)."""
    from llama_cpp import llama_chat_format

    def format_gemma(
        *, messages: list[Any], **kwargs: Any
    ) -> llama_chat_format.ChatFormatterResponse:
        builtin: Any = llama_chat_format.format_gemma
        response: llama_chat_format.ChatFormatterResponse = builtin(
            messages=gemma_messages(messages), **kwargs
        )
        return response

    handler: Any = llama_chat_format.chat_formatter_to_chat_completion_handler(format_gemma)
    registry: Any = llama_chat_format.LlamaChatCompletionHandlerRegistry()  # type: ignore[no-untyped-call]
    registry.register_chat_completion_handler(GEMMA, handler, overwrite=True)
