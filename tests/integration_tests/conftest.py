"""Fixtures for integration tests: a real dev server, the real SDK, the embedded model, Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from playwright.sync_api import Browser, sync_playwright

from agent.models.local.launcher import free_port
from agent.testing import scripted_model
from agent.testing.dev_server import RUNNING, DevServer, write_config

from .browser import CHROMIUM, CHROMIUM_FLAGS

INTEGRATION_DIR = Path(__file__).resolve().parent

ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")

LOG_LINES_ON_FAILURE = 200
"""Lines of each running server's log a failed test's report shows."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``integration`` (a conftest ``pytestmark`` marks nothing)."""
    for item in items:
        if INTEGRATION_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Show what the servers saw when a test fails: a flaky failure in CI explains itself.

    Adds the end of every running dev server's log and, when the scripted model
    was asked anything, the purpose of each request in order.
    """
    report: pytest.TestReport = yield
    if report.failed:
        for server in RUNNING:
            plain = ANSI_COLOUR.sub("", server.log())
            tail = "\n".join(plain.splitlines()[-LOG_LINES_ON_FAILURE:])
            report.sections.append((f"dev server log ({server.log_path})", tail))
        if scripted_model.settings.purposes:
            asked = ", ".join(scripted_model.settings.purposes)
            report.sections.append(("scripted model requests, in order", asked))
    return report


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
