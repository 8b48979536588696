"""The live view under a hostile or careless page: picker injection, closed pages, Resets.

A real ``govsim viz`` server (subprocess, loopback) and Debian's chromium, as in
test_viz_browser.py, whose helpers this file reuses. The server's output goes to a log this
file reads: the server prints a line when it stops the model of a closed page.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from test_viz_browser import (  # noqa: F401 (fixtures used by name)
    VIEWPORT,
    Tab,
    _free_port,
    _stop,
    _wait_for_http,
    browser,
)

from govsim.scenario import Scenario, resolve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

EVIL_AGENCIES = 17  # a scenario the server must never load: it is not offered


@pytest.fixture(scope="module")
def evil_scenario(tmp_path_factory) -> Path:
    """A valid scenario file outside the offered set, easy to recognise if it ran."""
    path = tmp_path_factory.mktemp("evil") / "evil.toml"
    path.write_text(Scenario.load(resolve("baseline")).with_overrides(
        {"market.n_agencies": EVIL_AGENCIES, "name": "evil"}).to_toml(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``govsim viz baseline`` on a free port: (url, log path, server process)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("hostile-viz") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govsim.cli", "viz", "baseline", "--host", "127.0.0.1",
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_http(url, proc, log)
        yield url, log, proc
    finally:
        _stop(proc)


@pytest.fixture
def context(browser):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


INJECT = """(value) => {
    // What a page script can do: emit the picker's change event with any value.
    const select = [...document.querySelectorAll('.v-select')]
        .find(el => el.innerText.includes('Scenario'));
    const vm = select.__vue__;
    vm.$emit('change', value);
    vm.$emit('input', value);
}"""


def test_the_picker_refuses_a_value_it_did_not_offer(context, served, evil_scenario):
    url, log, _ = served
    tab = Tab(context, url).open()
    for value in (str(evil_scenario), "/etc/passwd", "../pyproject.toml"):
        tab.page.evaluate(INJECT, value)
        tab.page.locator(".govsim-refused").wait_for()
        assert "is not one of the scenarios offered" in tab.page.locator(
            ".govsim-refused").inner_text()
    tab.page.wait_for_timeout(500)
    assert tab.run_summary().startswith("Running: baseline ")
    assert f"{EVIL_AGENCIES} agencies" not in tab.run_summary()
    tab.press("Step")
    tab.wait_for_step(1)  # the page still works
    text = log.read_text()
    assert "Traceback" not in text and "evil" not in text, text


def _cpu_seconds(proc: subprocess.Popen) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


def test_a_closed_page_stops_its_model_within_seconds(context, served):
    url, log, proc = served
    tab = Tab(context, url).open()
    tab.press("▶")
    tab.wait_until(lambda: tab.step_count() >= 2, "two months of play", timeout_s=60)
    before = log.read_text()
    tab.page.close()
    deadline = time.monotonic() + 10
    while "page closed; its model" not in log.read_text()[len(before):]:
        assert time.monotonic() < deadline, "the closed page's model was not stopped in 10 s"
        time.sleep(0.2)
    time.sleep(1)
    start = _cpu_seconds(proc)
    time.sleep(3)
    idle = _cpu_seconds(proc) - start
    assert idle < 1.0, f"the server used {idle:.1f} CPU s in 3 s after the page closed"
