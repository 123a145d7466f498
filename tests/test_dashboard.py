"""The dashboard end to end in a real headless browser (Debian's chromium, driven by Selenium):
load the page, edit a value, see the forecast change."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from detente.web import create_app

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(DRIVER).exists()

if not HAVE_BROWSER and os.environ.get("CI"):
    raise RuntimeError(".ci/run installs chromium and chromium-driver; they are missing")
pytestmark = pytest.mark.skipif(not HAVE_BROWSER, reason="needs chromium and chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(folder: Path, store: Path) -> Iterator[str]:
    """The dashboard on a free local port, in a thread, for the length of a test module."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(folder, store), host="127.0.0.1", port=port, log_level="error"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


def chromium(
    profile: Path, width: int = 1400, height: int = 1000, downloads: Path | None = None
) -> Any:
    """Headless Chromium driven by Selenium; files it downloads go to ``downloads``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--window-size={width},{height}", f"--user-data-dir={profile}",
    ):  # fmt: skip
        opts.add_argument(flag)
    if downloads is not None:
        opts.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=DRIVER))
    if downloads is not None:
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    return driver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(ROOT / "examples" / "cases" / "iran-2018.yaml", folder)
    yield from serve(folder, folder / "runs.sqlite")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    driver = chromium(tmp_path_factory.mktemp("chrome"))
    yield driver
    driver.quit()


def _texts(driver: object, *element_ids: str) -> list[str]:
    """The shown text of each element, read in one script call.

    One call reads them all at the same moment: the page replaces its result elements when an
    answer arrives, and an element found in one WebDriver call can be gone by the next."""
    script = (
        "return arguments[0].map(i => {const e = document.getElementById(i);"
        " return e ? e.innerText.trim() : '';});"
    )
    return list(driver.execute_script(script, list(element_ids)))  # type: ignore[attr-defined]


def _text_becomes(driver: object, element_id: str, test: object, timeout: float = 20) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: object) -> str | bool:
        text = _texts(d, element_id)[0]
        return text if text and test(text) else False  # type: ignore[operator]

    return str(WebDriverWait(driver, timeout).until(ready))


def test_load_edit_and_see_the_forecast_change(
    server: str, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(server)  # type: ignore[attr-defined]
    before = float(_text_becomes(d, "p-24", lambda t: True))
    assert before < 0.2  # Iran 2018 as shipped
    assert "Will Iran's leadership" in d.find_element("id", "question").text  # type: ignore[attr-defined]
    slider = d.find_element("id", "s-legitimacy_of_talks")  # type: ignore[attr-defined]
    slider.send_keys(Keys.END)  # talks now legitimise the leader (+1), as for Kim Jong-un
    after = float(_text_becomes(d, "p-24", lambda t: float(t) > before + 0.3))
    assert after > 0.5
    # a faction edit moves it too: the reformist activists' position down to 0
    box = d.find_element("id", "f-5-position")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys("0", Keys.TAB)
    _text_becomes(d, "p-24", lambda t: float(t) != after)
    d.save_screenshot(str(tmp_path / "dashboard.png"))  # type: ignore[attr-defined]
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
