"""Browser tests of the live view: ``govsim viz`` driven by Playwright in Debian's chromium.

One server (a subprocess on a free loopback port) and one browser serve the whole module.
The server starts on a scenario file written here (the bundled baseline with more agencies),
so the picker always has a second scenario, ``baseline``, to switch to. Every page records
console errors, page errors, failed responses and any request that is not to the loopback
server (those are refused: the page must work offline). Screenshots go to a temporary folder
whose path is printed at the end of the module.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from govsim.scenario import Scenario, resolve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_S = 90      # solara's first import is slow on a busy machine
UI_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1440, "height": 1000}
HORIZON = 24  # months of the test scenario: Play stops there


def step_text(n: str = r"\d+") -> re.Pattern:
    """Mesa's own step counter: "Step: 3" (Mesa 3.3), "Time: 3.0" (Mesa 3.5)."""
    return re.compile(rf"^(?:Step|Time): ({n})(?:\.0)?$")


STEP_TEXT = step_text()


# --- fixtures ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def start_scenario(tmp_path_factory) -> tuple[Path, int]:
    """A scenario file like the baseline but with more agencies and a run of HORIZON
    months, and its agency count."""
    baseline = Scenario.load(resolve("baseline"))
    agencies = baseline.market.n_agencies + 3
    path = tmp_path_factory.mktemp("viz-scenario") / "viz_test.toml"
    path.write_text(baseline.with_overrides({"market.n_agencies": agencies,
                                             "run.months": HORIZON}).to_toml(),
                    encoding="utf-8")
    return path, agencies


@pytest.fixture(scope="module")
def server(start_scenario, tmp_path_factory):
    """``govsim viz`` on a free loopback port; its URL. Always stopped afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("viz-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govsim.cli", "viz", str(start_scenario[0]),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_http(url, proc, log)
        yield url
    finally:
        _stop(proc)


def _wait_for_http(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"govsim viz exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"govsim viz did not answer on {url} within {SERVER_START_S} s:\n"
                f"{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (solara may start helpers), then make sure."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium under Playwright. Missing chromium fails: it must not skip."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(`make test` installs it; or: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request) -> Path:
    """Folder for screenshots; its path is printed when the module is done."""
    folder = tmp_path_factory.mktemp("viz-screenshots")
    yield folder
    # Printed past pytest's output capture, so it shows on a passing run too.
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nbrowser screenshots: {folder}")


class Tab:
    """A browser page on the app that records everything that went wrong."""

    def __init__(self, context, url: str):
        self.url = url
        self.page = context.new_page()
        self.page.set_default_timeout(UI_TIMEOUT_MS)
        self.problems: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", self._on_response)
        self.page.route("**/*", self._only_loopback)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _only_loopback(self, route) -> None:
        target = route.request.url
        if target.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:  # the page must work offline: nothing may leave the machine
            self.problems.append(f"request off the machine: {target}")
            route.abort()

    def open(self) -> Tab:
        self.page.goto(self.url)
        self.page.get_by_text(STEP_TEXT).wait_for()
        self.page.locator(".govsim-network img").wait_for()
        self.page.locator(".govsim-charts img").wait_for()
        return self

    # what the page shows

    def step_count(self) -> int:
        return int(STEP_TEXT.match(self.page.get_by_text(STEP_TEXT).inner_text()).group(1))

    def month_heading(self) -> str:
        return self.page.locator(".govsim-month").inner_text()

    def run_summary(self) -> str:
        return self.page.locator(".govsim-run").inner_text()

    def image_src(self, which: str) -> str:
        return self.page.locator(f".govsim-{which} img").get_attribute("src")

    def slider(self, label: str):
        return self.page.get_by_role("slider", name=label)

    # actions

    def press(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def wait_for_step(self, n: int) -> None:
        self.page.get_by_text(step_text(str(n))).wait_for()

    def wait_until(self, condition, what: str, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            self.page.wait_for_timeout(150)

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"))

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def tab(context, server) -> Tab:
    return Tab(context, server).open()


# --- tests -------------------------------------------------------------------------------


def test_page_renders_without_errors(tab, shots, start_scenario):
    page = tab.page
    for name in ("Reset", "▶", "Step"):
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    assert tab.step_count() == 0
    assert tab.month_heading().startswith("Month 0")
    assert f"{start_scenario[1]} agencies" in tab.run_summary()
    assert page.get_by_text("Testing budget (thousand yuan/year)").is_visible()
    assert page.locator(".govsim-feed").is_visible()
    tab.shot(shots, "01-loaded")
    tab.assert_clean()


def test_step_advances_month_and_charts_change(tab, shots):
    charts, network = tab.image_src("charts"), tab.image_src("network")
    tab.press("Step")
    tab.wait_for_step(1)
    tab.wait_until(lambda: tab.month_heading().startswith("Month 1 "), "the month heading")
    tab.wait_until(lambda: tab.image_src("charts") != charts, "the charts to be redrawn")
    tab.wait_until(lambda: tab.image_src("network") != network, "the network to be redrawn")
    assert tab.page.locator(".govsim-feed li").count() >= 1  # the first tender is an event
    tab.shot(shots, "02-after-step")
    tab.assert_clean()


def test_play_then_pause_advances_several_months(tab, shots):
    tab.press("▶")
    tab.wait_until(lambda: tab.step_count() >= 4, "four months of play", timeout_s=60)
    tab.press("❚❚")
    tab.page.get_by_role("button", name="▶", exact=True).wait_for()
    # a month already under way when Pause came may finish (slowly on a busy machine):
    # wait until the count holds for 1.5 s, then it must stay
    seen = [tab.step_count()]

    def settled() -> bool:
        tab.page.wait_for_timeout(1500)
        seen.append(tab.step_count())
        return seen[-1] == seen[-2]

    tab.wait_until(settled, "the month count to hold after Pause", timeout_s=15)
    paused_at = seen[-1]
    assert paused_at <= seen[0] + 1, "the model kept running after Pause"
    tab.page.wait_for_timeout(1500)
    assert tab.step_count() == paused_at, "the model kept running after Pause"
    tab.wait_until(lambda: tab.month_heading().startswith(f"Month {paused_at} "),
                   "the headline to catch up")
    tab.shot(shots, "03-played-and-paused")
    tab.assert_clean()


def _move(slider, presses: int, tries: int = 3) -> None:
    """Press ArrowRight on a slider until its value has moved (a redraw of the card on a
    busy machine can take the focus away from the first presses)."""
    start = slider.get_attribute("aria-valuenow")
    for _ in range(tries):
        slider.focus()
        for _ in range(presses):
            slider.press("ArrowRight")
        for _ in range(25):
            if slider.get_attribute("aria-valuenow") != start:
                return
            slider.page.wait_for_timeout(200)
    pytest.fail(f"the slider did not move from {start}")


def test_a_lever_before_the_first_month_starts_afresh_and_reset_starts_over(
        tab, shots, start_scenario):
    agencies = start_scenario[1]
    slider = tab.slider("Testing agencies (number)")
    assert slider.get_attribute("aria-valuenow") == str(agencies)
    _move(slider, 2)
    tab.wait_until(lambda: f"{agencies + 2} agencies" in tab.run_summary(),
                   "the rebuilt model's agencies in the run summary")
    tab.press("Step")
    tab.wait_for_step(1)
    # the number of agencies cannot change within a run: its slider is now disabled
    tab.page.get_by_text("Testing agencies (number) - fixed within a run").wait_for()
    tab.press("Reset")
    tab.wait_for_step(0)
    tab.wait_until(lambda: f"{agencies} agencies" in tab.run_summary(),
                   "Reset to start the scenario over")
    assert tab.month_heading().startswith("Month 0")
    tab.shot(shots, "04-lever-at-month-0-and-reset")
    tab.assert_clean()


def test_a_lever_moved_while_playing_acts_next_month_with_event_and_marker(tab, shots):
    tab.press("▶")
    tab.wait_until(lambda: tab.step_count() >= 2, "two months of play", timeout_s=60)
    lever = tab.slider("Enforcement (% of violations punished)")
    _move(lever, 5)
    feed = tab.page.locator(".govsim-feed li", has_text="(live view)")
    feed.first.wait_for(timeout=90_000)
    first = feed.last  # the feed is newest first; later presses may make later changes
    assert "enforcement probability 50% -> " in first.inner_text()
    month = int(re.search(r"M(\d+)", first.inner_text()).group(1))
    marks = tab.page.locator(".govsim-chart-marks")
    marks.wait_for(timeout=90_000)  # the charts are the slowest part to redraw
    assert f"month {month}: live view" in marks.inner_text()
    tab.wait_until(lambda: tab.step_count() >= month + 2, "the month to keep counting",
                   timeout_s=60)
    # the headline shows what is in force: the lever's value, once its key presses have
    # all reached the model (how many did depends on the machine's speed)
    def in_force() -> bool:
        value = lever.get_attribute("aria-valuenow")
        return value != "50" and f"enforcement {value}%" in tab.run_summary()

    tab.wait_until(in_force, "the lever's value in force", timeout_s=60)
    tab.press("❚❚")
    tab.page.get_by_role("button", name="▶", exact=True).wait_for()
    tab.shot(shots, "05-lever-while-playing")
    tab.assert_clean()


def test_save_scenario_reproduces_the_live_run(tab, shots, tmp_path):
    for n in (1, 2, 3):
        tab.press("Step")
        tab.wait_for_step(n)
    _move(tab.slider("Business fine (thousand yuan)"), 10)
    tab.page.locator(".govsim-pending").wait_for()
    for n in (4, 5, 6):
        tab.press("Step")
        tab.wait_for_step(n)
    tab.wait_until(lambda: tab.month_heading().startswith("Month 6 "), "the headline")
    shown = {label: tab.page.locator(".govsim-tile", has_text=label).locator(".value")
             .evaluate("e => e.firstChild.textContent")  # the value, not its change
             for label in ("Businesses complying", "People ill")}
    with tab.page.expect_download() as download:
        tab.page.get_by_role("button", name="Save scenario").click()
    saved = tmp_path / "saved.toml"
    download.value.save_as(saved)
    text = saved.read_text()
    assert "month = 4" in text and '"law.business_fine_yuan" = 100000.0' in text
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "govsim.cli", "run", str(saved), "--seed",
                           "0", "--months", "6", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import pandas as pd

    last = pd.read_csv(out / "timeseries.csv").iloc[-1]
    assert shown["Businesses complying"] == f"{last.compliance_rate:.1%}"
    assert shown["People ill"] == f"{last.illness_cases:,.0f}"
    tab.shot(shots, "06-saved")
    tab.assert_clean()


def test_play_stops_at_the_horizon_and_can_go_on(tab, shots):
    tab.press("▶")
    tab.page.get_by_role("button", name="Go on 12 more months").wait_for(timeout=90_000)
    assert tab.step_count() == HORIZON
    tab.page.wait_for_timeout(1000)
    assert tab.step_count() == HORIZON, "the model went on past its horizon"
    tab.press("Go on 12 more months")
    tab.press("▶")
    tab.wait_until(lambda: tab.step_count() >= HORIZON + 2, "the run to go on", timeout_s=60)
    tab.press("❚❚")
    tab.shot(shots, "08-went-on")
    tab.assert_clean()


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_layout_puts_levers_first_and_keeps_tiles_whole(browser, server, shots, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        tab = Tab(context, server).open()
        levers = tab.page.locator(".govsim-levers").bounding_box()
        controls = tab.page.get_by_role("button", name="Reset", exact=True).bounding_box()
        assert levers["y"] < controls["y"], "the policy levers come before Mesa's controls"
        for tile in tab.page.locator(".govsim-tile .label").all():
            assert tile.evaluate("e => e.scrollWidth <= e.clientWidth"), tile.inner_text()
        charts = tab.page.locator(".govsim-charts").bounding_box()
        assert charts["y"] < size[1], "the charts start within the first screen"
        tab.shot(shots, f"07-layout-{size[0]}x{size[1]}")
        tab.assert_clean()
    finally:
        context.close()


def _pick(tab: Tab, scenario: str) -> None:
    tab.page.locator(".v-select", has_text="Scenario").first.click()
    tab.page.locator(".v-menu__content .v-list-item",
                     has_text=re.compile(f"^{re.escape(scenario)}$")).click()
    tab.wait_until(lambda: tab.run_summary().startswith(f"Running: {scenario} "),
                   f"the {scenario} scenario to load")


def test_scenario_picker_loads_another_scenario(tab, shots):
    baseline_agencies = Scenario.load(resolve("baseline")).market.n_agencies
    tab.press("Step")
    tab.wait_for_step(1)
    _pick(tab, "baseline")
    tab.wait_for_step(0)
    assert f"{baseline_agencies} agencies" in tab.run_summary()
    # The sliders now start from the picked scenario, and Reset keeps to it.
    slider = tab.slider("Testing agencies (number)")
    assert slider.get_attribute("aria-valuenow") == str(baseline_agencies)
    tab.press("Step")
    tab.wait_for_step(1)
    tab.press("Reset")
    tab.wait_for_step(0)
    assert tab.run_summary().startswith("Running: baseline ")
    assert f"{baseline_agencies} agencies" in tab.run_summary()
    tab.press("Step")
    tab.wait_for_step(1)
    tab.shot(shots, "05-scenario-picked")
    tab.assert_clean()


def test_two_pages_step_independently(context, server, shots):
    first, second = Tab(context, server).open(), Tab(context, server).open()
    for n in (1, 2, 3):
        first.press("Step")
        first.wait_for_step(n)
    second.page.wait_for_timeout(500)
    assert second.step_count() == 0
    assert second.month_heading().startswith("Month 0")
    second.press("Step")
    second.wait_for_step(1)
    _pick(second, "baseline")  # the picked scenario is per tab too
    second.wait_for_step(0)
    assert first.step_count() == 3
    assert first.month_heading().startswith("Month 3 ")
    assert first.run_summary().startswith("Running: viz_test ")
    first.shot(shots, "06-first-tab")
    second.shot(shots, "06-second-tab")
    first.assert_clean()
    second.assert_clean()
