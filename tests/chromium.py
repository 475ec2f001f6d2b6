"""Debian's headless Chromium for the page's tests, driven by selenium (a fixture each test
module that needs a browser imports)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.store.services import missing

#: The flags Chromium needs here: no sandbox as root, and no background connections, which
#: this machine's closed network refuses many at a time.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
)  # fmt: skip


def binaries() -> tuple[str, str]:
    """Chromium's and chromedriver's paths (a skip, or in CI a failure, when absent)."""
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(browser) and os.path.exists(driver)):
        missing("Debian's chromium and chromium-driver are not installed")
    pytest.importorskip("selenium", reason="needs selenium (the test extra)")
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, its console log kept."""
    chromium, chromedriver = binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="taskhub-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
