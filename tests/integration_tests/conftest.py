"""Fixtures for integration tests: a real dev server, the real SDK, the embedded model, Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from playwright.sync_api import Browser, sync_playwright

from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, write_config

from .browser import CHROMIUM, CHROMIUM_FLAGS

INTEGRATION_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``integration`` (a conftest ``pytestmark`` marks nothing)."""
    for item in items:
        if INTEGRATION_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)


def start_server(workdir: Path) -> DevServer:
    """Write a config into ``workdir`` and start a dev server there."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_config(workdir)
    server = DevServer(workdir=workdir, port=free_port())
    server.start()
    return server


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One ``langgraph dev`` server shared by the session's read-mostly tests."""
    server = start_server(tmp_path_factory.mktemp("dev-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def client(dev_server: DevServer) -> AsyncIterator[LangGraphClient]:
    """An SDK client of the shared server."""
    sdk = get_client(url=dev_server.url, api_key=None)
    try:
        yield sdk
    finally:
        await sdk.http.client.aclose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for one test module (skipped without it); see ``browser.py``."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
