"""The server announces its URL to the CLI through its state directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.server.discovery import URL_FILE, announce_url, discovered_url, withdraw_url


def test_announced_url_is_found_then_withdrawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGGRAPH_API_URL", "http://127.0.0.1:41234")
    path = announce_url(tmp_path)
    assert path == tmp_path / URL_FILE
    assert discovered_url(tmp_path) == "http://127.0.0.1:41234"
    withdraw_url(path)
    assert discovered_url(tmp_path) is None


def test_nothing_announced_outside_a_langgraph_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANGGRAPH_API_URL", raising=False)
    assert announce_url(tmp_path) is None
    assert not (tmp_path / URL_FILE).exists()
