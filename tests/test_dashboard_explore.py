"""The dashboard's exploring in a real headless browser: pressure phases and events edited beside
the file's forecast, errors next to the field, the view in the address, the exports, a broken file
clearing the view, and a 360 px wide screen without sideways scrolling.

One browser and one server for the module; the tests run in order on the same page where that
saves a reload."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from detente.store import RunStore

from .conftest import ROOT
from .test_dashboard import HAVE_BROWSER, _text_becomes, _texts, chromium, serve

pytestmark = pytest.mark.skipif(not HAVE_BROWSER, reason="needs chromium and chromedriver")
ENFORCEMENT = "pressure.oil.timeline[1].enforcement"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(ROOT / "examples" / "cases" / "iran-2018.yaml", folder)
    shutil.copy(ROOT / "examples" / "cases" / "cuba-2017.yaml", folder)  # it has an election
    text = (ROOT / "examples" / "cases" / "iran-2018.yaml").read_text(encoding="utf-8")
    # a file that parses as YAML but is no scenario: its horizon is out of range
    (folder / "broken.yaml").write_text(text.replace("horizon: 36", "horizon: 0"), encoding="utf-8")
    store = RunStore(folder / "runs.sqlite")
    forecast = {"horizons": {"24": {"p": 0.11, "lo": 0.0, "hi": 0.3}}, "even_odds_month": None}
    store.add("run", {"draws": 100}, forecast, {}, "iran-2018", text, 1)
    store.add("sweep", {"grid": ["x=0:1:3"]}, {"points": 3, "of": 3, "complete": True}, {},
              "iran-2018", text, 1)  # fmt: skip
    for top in ("leader.legacy_weight", "leader.legitimacy_of_talks"):
        summary = {"top": [{"name": top, "ST": 0.5, "S1": 0.4}]}
        store.add("sensitivity", {"samples": 64}, summary, {}, "iran-2018", text, 1)
    yield from serve(folder, folder / "runs.sqlite")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Any]:
    driver = chromium(tmp_path_factory.mktemp("chrome"), downloads=downloads)
    yield driver
    driver.quit()


def _wait(test: Callable[[], Any], timeout: float = 20) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = test()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _control(d: Any, path: str) -> tuple[Any, Any]:
    ctl = d.find_element("css selector", f'#pressure .ctl[data-path="{path}"]')
    return ctl.find_element("css selector", "select"), ctl.find_element("css selector", "input")


def _edit(d: Any, path: str, op: str, value: str) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    select, box = _control(d, path)
    Select(select).select_by_value(op)
    box.clear()
    box.send_keys(value, Keys.TAB)
    # each step above may start a run; only the last one's answer is shown, so wait for it
    _wait(lambda: _texts(d, "status")[0] not in ("", "running..."))


def _numbers(d: Any) -> tuple[float, float, float]:
    texts = _texts(d, "base-24", "p-24", "d-24")
    return tuple(float(t.replace("\u2212", "-").replace("\u00b1", "")) for t in texts)  # type: ignore[return-value]  # fmt: skip


def _loaded(d: Any, url: str) -> tuple[float, float, float]:
    d.get(url)
    _text_becomes(d, "p-24", lambda t: True)
    _wait(lambda: "draws" in d.find_element("id", "status").text)
    return _numbers(d)


def test_a_pressure_phase_edit_moves_the_forecast_beside_the_file(
    server: str, browser: Any
) -> None:
    d = browser
    base, edited, diff = _loaded(d, server)
    assert base == edited and diff == 0.0  # no edit yet: the two are the same draws
    # no oil enforcement after the snap-back: the 24-month forecast and the difference move
    _edit(d, ENFORCEMENT, "pin", "0")
    _text_becomes(d, "d-24", lambda t: t not in ("\u00b10.00",))
    base2, edited2, diff2 = _numbers(d)
    assert base2 == base and edited2 != base and abs(diff2 - (edited2 - base2)) <= 0.011
    state = d.find_element("css selector", f'#pressure .ctl[data-path="{ENFORCEMENT}"] .state')
    assert "pinned at 0" in state.text and "one value in every draw" in state.text
    # the chart shows both lines, and they differ
    lines = [d.find_element("id", i).get_attribute("points") for i in ("line-base", "line-edited")]
    assert lines[0] != lines[1]
    # the channels of the edited forecast: direct talks open in public or in secret
    public, secret = (float(t) for t in _texts(d, "ch-24-public", "ch-24-secret"))
    assert abs(public + secret - edited2) <= 0.011


def test_b_an_event_switched_off(server: str, browser: Any) -> None:
    d = browser
    _, before, _ = _numbers(d)
    d.find_element("id", "ev-on-0").click()  # the US leaving the deal, undone
    after = float(_text_becomes(d, "p-24", lambda t: float(t) != before))
    assert after != before
    assert "off" in d.execute_script("return decodeURIComponent(location.hash)")


def test_c_an_invalid_edit_is_shown_next_to_its_field(server: str, browser: Any) -> None:
    d = browser
    _edit(d, "pressure.oil.timeline[0].enforcement", "shift", "0.7")
    err = d.find_element("css selector", '[data-err="pressure.oil.timeline[0].enforcement"]')
    _wait(lambda: err.text)
    assert "outside the allowed range [0, 1]" in err.text
    assert "\n" not in err.text
    assert "outside the allowed range" in d.find_element("id", "status").text
    _edit(d, "pressure.oil.timeline[0].enforcement", "shift", "0")
    _wait(lambda: not err.text)


def test_d_a_shared_address_restores_the_view(server: str, browser: Any) -> None:
    d = browser
    _wait(lambda: "draws" in d.find_element("id", "status").text)
    url = d.current_url
    view = _numbers(d)
    assert "#" in url and "e=" in url
    d.get(server)  # elsewhere first: the plain page has no edits
    _text_becomes(d, "d-24", lambda t: t == "\u00b10.00")
    assert _loaded(d, url) == view
    assert not d.find_element("id", "ev-on-0").is_selected()
    _, box = _control(d, ENFORCEMENT)
    assert box.get_attribute("value") == "0"


def test_d2_a_shared_address_restores_the_settings(server: str, browser: Any) -> None:
    """Draws, seed and as-of month travel in the address as the edits do."""
    d = browser
    for field, value in (("draws", "700"), ("seed", "5"), ("asof", "2019-01")):
        box = d.find_element("id", field)
        box.clear()
        box.send_keys(value)
        d.execute_script("arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", box)
    _wait(lambda: "draws=700" in d.current_url and "seed=5" in d.current_url)
    _wait(lambda: "asof=2019-01" in d.current_url)
    _wait(lambda: "700 draws" in d.find_element("id", "status").text)
    url, view = d.current_url, _numbers(d)
    d.get(server)
    _wait(lambda: d.find_element("id", "draws").get_attribute("value") != "700")
    assert _loaded(d, url) == view
    assert [d.find_element("id", f).get_attribute("value") for f in ("draws", "seed", "asof")] == [
        "700",
        "5",
        "2019-01",
    ]


def test_d3_a_late_answer_never_replaces_a_newer_one(server: str, browser: Any) -> None:
    """Answers can come back out of order: the first of two runs, held back in the page's
    fetch, must not overwrite the second's when it finally arrives."""
    d = browser

    def set_draws(value: str) -> None:
        box = d.find_element("id", "draws")
        box.clear()
        box.send_keys(value)
        d.execute_script("arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", box)

    d.execute_script(
        """
        const plain = window.api;
        let held = 0;
        window.api = async (...args) => {
          const answer = await plain(...args);
          if (args[0] === "/api/explore" && held++ === 0) {
            await new Promise((ok) => setTimeout(ok, 2500));
          }
          return answer;
        };
        window.restoreApi = () => { window.api = plain; };
        """
    )
    try:
        set_draws("300")
        _wait(lambda: d.execute_script("return document.getElementById('status').textContent")
              == "running...")  # fmt: skip
        time.sleep(0.8)  # the first run is under way (held), then a second is asked for
        set_draws("500")
        _wait(lambda: "500 draws" in d.find_element("id", "status").text)
        time.sleep(3)  # the held answer (300 draws) arrives now, and must be dropped
        assert "500 draws" in d.find_element("id", "status").text
    finally:
        d.execute_script("window.restoreApi()")
    set_draws("700")
    _wait(lambda: "700 draws" in d.find_element("id", "status").text)
    assert "As of 2019-01" in d.find_element("id", "asofNote").text
    for field, value in (("draws", "1000"), ("seed", "20180508"), ("asof", "")):
        box = d.find_element("id", field)
        box.clear()
        box.send_keys(value)
        d.execute_script("arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", box)
    _wait(lambda: "asof=" not in d.current_url)


def test_e_every_export_downloads(server: str, browser: Any, downloads: Path) -> None:
    d = browser
    names = {
        "dl-yaml": "iran-2018-edited.yaml",
        "dl-json": "iran-2018-run.json",
        "dl-csv": "iran-2018-forecast.csv",
        "dl-svg": "iran-2018-chart.svg",
        "dl-png": "iran-2018-chart.png",
    }
    for button, name in names.items():
        d.find_element("id", button).click()
        _wait(lambda name=name: (downloads / name).is_file() and (downloads / name).stat().st_size)
    yaml_text = (downloads / names["dl-yaml"]).read_text(encoding="utf-8")
    assert yaml_text.startswith('# Iran under "maximum pressure"')  # the original's comments
    assert "pinned, was uniform(0.4, 0.8): set in the detente dashboard" in yaml_text
    assert "switched off, was 1: set in the detente dashboard" in yaml_text  # event 0 is off
    run = json.loads((downloads / names["dl-json"]).read_text(encoding="utf-8"))
    assert run["scenario"] == "iran-2018" and f"{run['horizons']['24']['p']:.2f}" == _numbers(d)[
        1:2
    ][0].__format__(".2f")
    csv = (downloads / names["dl-csv"]).read_text(encoding="utf-8").splitlines()
    assert csv[0].startswith("horizon_months,p_file,lo_file,hi_file,p_edited") and len(csv) == 5
    assert (downloads / names["dl-svg"]).read_text(encoding="utf-8").startswith("<svg")
    assert (downloads / names["dl-png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_f_a_broken_file_clears_the_view(server: str, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    d = browser
    Select(d.find_element("id", "scenario")).select_by_visible_text("broken.yaml")
    _wait(lambda: "horizon" in d.find_element("id", "status").text)
    assert d.find_element("id", "status").get_attribute("class") == "error"
    assert d.find_element("id", "question").text == "Forecast"
    assert d.find_elements("css selector", "#sliders input") == []
    assert d.find_elements("css selector", "#forecast tbody tr") == []
    assert d.find_elements("css selector", "#pressure table") == []
    assert d.find_element("id", "chart").get_attribute("innerHTML") == ""


def test_g_a_360_px_screen_has_no_sideways_scroll(
    server: str, browser: Any, tmp_path: Path
) -> None:
    d = browser
    d.set_window_size(360, 900)
    try:
        _loaded(d, server)
        width = d.execute_script("return window.innerWidth")
        assert width <= 380
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        d.save_screenshot(str(tmp_path / "narrow.png"))
        assert (tmp_path / "narrow.png").stat().st_size > 10_000
    finally:
        d.set_window_size(1400, 1000)


def test_h_as_of_an_added_phase_and_a_rescaled_event(server: str, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    d = browser
    _loaded(d, server)
    assert d.find_element("id", "asofNote").text == "From the start, 2018-05."
    d.find_element("id", "asof").send_keys("2019-01", Keys.TAB)
    _wait(lambda: d.find_element("id", "asofNote").text.startswith("As of 2019-01:"))
    _loaded(d, server)
    # no oil sanctions after all from the snap-back (November 2018), then taken back
    for field, value in (("month", "2018-11"), ("int", "0"), ("enf", "0")):
        box = d.find_element("id", f"add-oil-{field}")
        box.clear()
        box.send_keys(value)
    d.find_element("id", "add-oil").click()
    _text_becomes(d, "d-24", lambda t: t != "\u00b10.00")
    assert "2018-11 (added)" in d.find_element("id", "pressure").text
    d.find_element("css selector", "#pressure [data-drop]").click()
    _text_becomes(d, "d-24", lambda t: t == "\u00b10.00")
    # the broken deal three times as heavy
    box = d.find_element("id", "ev-scale-0")
    box.clear()
    box.send_keys("3", Keys.TAB)
    _text_becomes(d, "d-24", lambda t: t != "\u00b10.00")
    assert '"op":"rescale","value":3' in d.execute_script(
        "return decodeURIComponent(location.hash)"
    )


def test_i_stored_runs_of_each_kind(server: str, browser: Any) -> None:
    d = browser
    _loaded(d, server)
    _wait(lambda: len(d.find_elements("css selector", "#runs tbody tr")) == 4)
    cells = [
        [c.text for c in r.find_elements("css selector", "td")]
        for r in d.find_elements("css selector", "#runs tbody tr")
    ]
    rows = {f"{c[2]} {c[3]}" for c in cells}
    assert rows == {
        "run 24 mo: 0.11",
        "sweep 3 of 3 grid points",
        "sensitivity top inputs: leader.legacy_weight (ST 0.50)",
        "sensitivity top inputs: leader.legitimacy_of_talks (ST 0.50)",
    }
    # a forecast beside the forecast; a lone sweep has nothing to be compared with
    assert len(d.find_elements("css selector", "#runs [data-run]")) == 1
    picks = d.find_elements("css selector", "#runs [data-pick]")
    assert len(picks) == 2  # the two sensitivity runs, with each other only
    d.find_element("css selector", "#runs [data-run]").click()
    _text_becomes(d, "forecast", lambda t: "0.11 (run 1)" in t)
    picks[0].click()
    picks[1].click()
    _wait(lambda: "(sensitivity)" in d.find_element("id", "runsDiff").text)
    assert "top" in d.find_element("id", "runsDiff").text


def test_j_an_election_can_be_switched_off_but_has_no_size(server: str, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    d = browser
    _loaded(d, server)
    Select(d.find_element("id", "scenario")).select_by_visible_text("cuba-2017.yaml")
    _wait(lambda: "Cuba" in _texts(d, "question")[0] and "draws" in _texts(d, "status")[0])
    events = d.execute_script("return data.events.map((e) => e.type)")
    k = events.index("election")
    assert not d.find_element("id", f"ev-scale-{k}").is_enabled()
    assert d.find_element("id", f"ev-scale-{k - 1}").is_enabled()  # a sized event keeps its box
    d.find_element("id", f"ev-on-{k}").click()
    _wait(lambda: _texts(d, "status")[0] not in ("", "running..."))
    assert d.find_element("id", "status").get_attribute("class") != "error"
    assert f'"path":"events[{k}]","op":"off"' in d.execute_script(
        "return decodeURIComponent(location.hash)"
    )
    d.find_element("id", f"ev-on-{k}").click()  # on again: still no size to set
    assert not d.find_element("id", f"ev-scale-{k}").is_enabled()
