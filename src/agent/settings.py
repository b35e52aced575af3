"""Every setting the chatbot reads from its environment, in one place.

Each variable is declared once below, with its kind, its default and an example
value, and read through :meth:`Setting.get`. One rule per kind:

* yes/no: ``1 true yes on`` and ``0 false no off`` (any case); nothing else.
* whole number, number: written out (``2000``, ``0.7``), within the stated range.
* path, URL, text: taken as written (a URL must start with http:// or https://).

An unset or empty variable means its default. A value that breaks its kind's
rule raises :class:`SettingError`, whose message names the variable, what was
wrong and an example of a value that works, so the server stops at start with
a line that says what to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """An environment variable holds a value of the wrong kind; the message says which."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, how to read it, its default and an example."""

    name: str
    parse: Callable[[str], T]
    default: T
    example: str

    def get(self) -> T:
        """Return the variable's value now, or its default when unset or empty.

        Raises:
            SettingError: the value breaks its kind's rule.
        """
        raw = os.environ.get(self.name, "").strip()
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as error:
            raise SettingError(
                f"{self.name}={raw!r} is not {error}; set it to e.g. {self.example}."
            ) from None

    def is_set(self) -> bool:
        """Tell whether the variable holds a non-empty value."""
        return bool(os.environ.get(self.name, "").strip())


def yes_no(raw: str) -> bool:
    """Read a yes/no value."""
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("a yes/no value (true/false, yes/no, on/off, 1/0)")


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """Return a reader of whole numbers from ``low`` to ``high`` (no upper bound if None)."""
    span = f"from {low}" if high is None else f"from {low} to {high}"

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"a whole number ({span})") from None
        if value < low or (high is not None and value > high):
            raise ValueError(f"a whole number {span}")
        return value

    return parse


def whole_number_or_all(low: int) -> Callable[[str], int | None]:
    """Return a reader of a whole number from ``low``, or ``all`` (None: no limit)."""
    number = whole_number(low)

    def parse(raw: str) -> int | None:
        if raw.lower() == "all":
            return None
        try:
            return number(raw)
        except ValueError:
            raise ValueError(f"a whole number from {low}, or 'all'") from None

    return parse


def number(low: float, high: float | None = None) -> Callable[[str], float]:
    """Return a reader of numbers from ``low`` to ``high`` (no upper bound if None)."""
    span = f"from {low:g}" if high is None else f"from {low:g} to {high:g}"

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"a number ({span})") from None
        if value != value or value < low or (high is not None and value > high):
            raise ValueError(f"a number {span}")
        return value

    return parse


def path(raw: str) -> Path:
    """Read a filesystem path (``~`` expanded)."""
    return Path(raw).expanduser()


def url(raw: str) -> str:
    """Read an http(s) URL, without a trailing slash."""
    if not re.match(r"^https?://[^\s/]+", raw):
        raise ValueError("an http:// or https:// URL")
    return raw.rstrip("/")


def text(raw: str) -> str:
    """Read text as written."""
    return raw


def identifier(raw: str) -> str:
    """Read a plain SQL identifier (letters, digits, underscores)."""
    if not raw.isidentifier():
        raise ValueError("a plain SQL identifier (letters, digits and underscores)")
    return raw


# --- Model endpoint ---------------------------------------------------------
OPENAI_API_KEY = Setting("OPENAI_API_KEY", text, "", "sk-...")
OPENAI_BASE_URL = Setting("OPENAI_BASE_URL", url, "", "http://127.0.0.1:11434/v1")
MODEL = Setting("CHATBOT_MODEL", text, "", "llama3.2")
MODEL_TIMEOUT = Setting("CHATBOT_MODEL_TIMEOUT", number(0.1), 120.0, "120")

# --- Conversation defaults (each can be overridden per run through the context) ---
SYSTEM_PROMPT = Setting("CHATBOT_SYSTEM_PROMPT", text, "", '"You are a helpful assistant."')
TEMPERATURE = Setting("CHATBOT_TEMPERATURE", number(0.0, 2.0), 0.0, "0.7")
MAX_HISTORY_TOKENS = Setting("CHATBOT_MAX_HISTORY_TOKENS", whole_number(16), 2000, "2000")
SUMMARIZE = Setting("CHATBOT_SUMMARIZE", yes_no, True, "true")
MAX_MESSAGE_CHARS = Setting("CHATBOT_MAX_MESSAGE_CHARS", whole_number(1), 20_000, "20000")
REMEMBER = Setting("CHATBOT_REMEMBER", yes_no, True, "false")

# --- Storage -----------------------------------------------------------------
DATA_DIR = Setting("CHATBOT_DATA_DIR", path, Path(".chatbot"), "/var/lib/chatbot")
POSTGRES_URI = Setting(
    "POSTGRES_URI", text, "", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
DATABASE_URI = Setting(
    "DATABASE_URI", text, "", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
DB_SCHEMA = Setting("CHATBOT_DB_SCHEMA", identifier, "chatbot", "chatbot")
DB_POOL_SIZE = Setting("CHATBOT_DB_POOL_SIZE", whole_number(1, 1000), 10, "10")
HISTORY_TURNS: Setting[int | None] = Setting(
    "CHATBOT_HISTORY_TURNS", whole_number_or_all(1), 50, "50 (or all)"
)

# --- Embedded model -------------------------------------------------------------
CACHE_DIR = Setting("CHATBOT_CACHE_DIR", path, Path(), "/var/cache/chatbot")
XDG_CACHE_HOME = Setting("XDG_CACHE_HOME", path, Path(), "~/.cache")
LOCAL_MODEL_URL = Setting("CHATBOT_LOCAL_MODEL_URL", url, "", "http://127.0.0.1:8081/v1")
MODEL_FILE = Setting(
    "CHATBOT_MODEL_FILE", path, Path(), "~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"
)
CHAT_FORMAT = Setting("CHATBOT_CHAT_FORMAT", text, "", "chatml")
MAX_REPLY_TOKENS = Setting("CHATBOT_MAX_REPLY_TOKENS", whole_number(16), 512, "512")
MODEL_CONTEXT = Setting("CHATBOT_MODEL_CONTEXT", whole_number(512), 4096, "8192")

# --- Users, server and command-line client ----------------------------------
AUTH_SECRET = Setting("CHATBOT_AUTH_SECRET", text, "", "<output of: openssl rand -hex 32>")
SERVER_URL = Setting("LANGGRAPH_API_URL", url, "", "http://127.0.0.1:2024")
CLIENT_URL = Setting("CHATBOT_URL", url, "", "http://127.0.0.1:2024")
CLIENT_TOKEN = Setting("CHATBOT_TOKEN", text, "", "eyJ...")

SETTINGS: tuple[Setting[Any], ...] = tuple(
    value for value in dict(globals()).values() if isinstance(value, Setting)
)
"""Every setting above, in order (the documentation test reads this)."""

EXTERNAL = frozenset({"XDG_CACHE_HOME", "LANGGRAPH_API_URL", "DATABASE_URI"})
"""Variables that belong to the platform or the LangGraph server, not documented as ours."""


def set_local_model_url(value: str | None) -> None:
    """Announce (or withdraw, with None) the running embedded model server's base URL."""
    if value is None:
        os.environ.pop(LOCAL_MODEL_URL.name, None)
    else:
        os.environ[LOCAL_MODEL_URL.name] = value


def check_all() -> None:
    """Read every setting once, so a wrong value stops the server at start.

    Raises:
        SettingError: the first variable whose value breaks its rule.
    """
    for setting in SETTINGS:
        setting.get()
