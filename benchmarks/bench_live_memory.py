"""Benchmark: memory of the live view's server under Resets and pages left playing.

Starts ``govsim viz baseline`` on a loopback port and drives Debian's chromium with
Playwright:

1. one page presses Reset ``--resets`` times (default 100); the server's resident memory is
   printed before, every 25 Resets and after;
2. ``--pages`` pages (default 5) press Play at once and stay open for ``--minutes``
   (default 2; docs/SECURITY.md reports a 10-minute run); memory is sampled every 15 s.
   Play stops at the scenario's last month, so after a minute or two the pages hold
   finished runs;
3. the pages are closed and the server's CPU use over the next 5 s is printed (their models
   must have stopped).

Run:
    .venv/bin/python benchmarks/bench_live_memory.py [--resets 100] [--pages 5] [--minutes 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import psutil

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def rss_mb(proc: psutil.Process) -> float:
    """Resident memory of the server and its children, MB."""
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total / 2**20


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(tempfile.mkdtemp(), "server.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "govsim.cli", "viz", "baseline",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def open_page(context, url: str):
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text("Step: 0", exact=True).wait_for()
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resets", type=int, default=100)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url = start_server()
    server = psutil.Process(proc.pid)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = open_page(context, url)
            print(f"server after the first page: {rss_mb(server):.0f} MB")
            for i in range(1, args.resets + 1):
                page.get_by_role("button", name="Step", exact=True).click()
                page.get_by_text("Step: 1", exact=True).wait_for()
                page.get_by_role("button", name="Reset", exact=True).click()
                page.get_by_text("Step: 0", exact=True).wait_for()
                if i % 25 == 0:
                    print(f"after {i} Resets: {rss_mb(server):.0f} MB", flush=True)
            page.close()
            pages = [open_page(context, url) for _ in range(args.pages)]
            for p in pages:
                p.get_by_role("button", name="▶", exact=True).click()
            start = time.monotonic()
            peak = 0.0
            while time.monotonic() - start < args.minutes * 60:
                time.sleep(15)
                now = rss_mb(server)
                peak = max(peak, now)
                print(f"{args.pages} pages playing, {time.monotonic() - start:.0f} s: "
                      f"{now:.0f} MB", flush=True)
            print(f"peak with {args.pages} pages playing: {peak:.0f} MB")
            for p in pages:
                p.close()
            time.sleep(3)
            before = cpu_s(server)
            time.sleep(5)
            print(f"server CPU over 5 s after closing the pages: {cpu_s(server) - before:.2f} s")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
