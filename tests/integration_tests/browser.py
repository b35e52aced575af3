"""Debian's Chromium for the browser tests, driven by Playwright's own driver.

``make browser`` installs it at ``/usr/bin/chromium`` (``CHROMIUM_PATH`` says
where else); Playwright never downloads a browser here. The ``browser``
fixture (``conftest.py``) launches it once per test module and skips the
module's tests when it is missing; every test opens a context of its own with
:func:`open_page`, so nothing (cookies, storage, permissions) passes between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def open_page(
    browser: Browser, server_url: str, *, timeout_ms: int = 30_000, **options: Any
) -> Iterator[Page]:
    """A tab in a new context (``options`` are ``new_context``'s), closed afterwards.

    On leaving, asserts the page fetched nothing from anywhere but ``server_url``.
    """
    context = browser.new_context(**options)
    context.set_default_timeout(timeout_ms)
    tab = context.new_page()
    outside: list[str] = []
    tab.on(
        "request",
        lambda request: None if request.url.startswith(server_url) else outside.append(request.url),
    )
    try:
        yield tab
    finally:
        context.close()
    assert not outside, f"the page fetched from outside the server: {outside}"
