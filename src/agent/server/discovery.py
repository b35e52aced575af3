"""Let the ``chatbot`` command find the server started in the same directory.

``langgraph dev`` silently moves to another port when 2024 is taken, so the
server writes the URL it really serves on into its own state directory
(``.langgraph_api/``, beside its checkpoints) and removes it on shutdown; the
CLI, run from the same directory, reads it.
"""

from __future__ import annotations

from pathlib import Path

from agent import settings

URL_FILE = Path(".langgraph_api") / "chatbot-url"
"""Relative to the server's working directory."""


def announce_url(workdir: Path | None = None) -> Path | None:
    """Record the URL the server listens on (``LANGGRAPH_API_URL``); return the file."""
    url = settings.SERVER_URL.get()
    if not url:
        return None
    path = (workdir or Path.cwd()) / URL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(url + "\n")
    return path


def withdraw_url(path: Path | None) -> None:
    """Remove the URL file written by :func:`announce_url`."""
    if path is not None:
        path.unlink(missing_ok=True)


def discovered_url(workdir: Path | None = None) -> str | None:
    """Return the URL announced by a server running in ``workdir``, if any."""
    path = (workdir or Path.cwd()) / URL_FILE
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
