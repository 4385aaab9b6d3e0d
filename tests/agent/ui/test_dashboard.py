"""The dashboard in a real browser (Debian's chromium through Selenium) against a real
server process (`magnet ui`) and sessions run by the CLI in other processes.

The LLM is unreachable (a closed port, --llm-optional): the cards are the baseline seeds,
which need none, so nothing is scripted.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from magnet.agent.traces import TraceStore
from magnet.agent.ui.app import form_token
from tests.conftest import TINY, magnet, words

GOAL = "predict the S&P 500 direction"
NO_LLM = ["--model", "openai/unreachable", "--api-base", "http://127.0.0.1:9", "--llm-optional"]
TOKEN = "test-token-0123456789"


@pytest.fixture
def dashboard(magnet_home):
    """`magnet ui` on a free port: its base URL (the token is TOKEN)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "magnet.agent.cli", "ui", "--port", "0", "--token", TOKEN],
        env={**os.environ, "MAGNET_HOME": str(magnet_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=" + TOKEN, line)
    assert found, line + proc.stderr.read()
    yield found.group(1)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1400",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


def wait_for(check, timeout=120.0, what="the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def text(driver, css: str) -> str:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:  # the live panel replaces its elements: a stale one reads as not there yet
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def click(driver, css: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, css).click()


def submit(driver, css: str) -> None:
    """Click a form's button and wait for the page it loads (the old page's marker is gone)."""
    driver.execute_script("window.oldPage = true")
    click(driver, css)
    wait_for(
        lambda: driver.execute_script(
            "return !window.oldPage && document.readyState === 'complete'"
        ),
        what="the page the form loads",
    )


def start_waiting_session(home: Path) -> str:
    settings = [a for s in words(TINY) for a in ("--set", s)]
    started = magnet(
        "research",
        GOAL,
        "--max-experiments",
        "4",
        "--steps",
        "3",
        "--scale-up",
        "0",
        "--chain",
        "off",
        "--workers",
        "1",
        *settings,
        *NO_LLM,
        home=home,
    )  # fmt: skip  (one at a time: each approval runs its experiment to the end)
    assert started.returncode == 0, started.stderr
    [session] = TraceStore(home / "magnet.db").sessions()
    assert session.status == "waiting"
    return session.id


def post(url: str, fields: dict, cookie: str | None = None) -> tuple[int, str]:
    data = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in fields.items()).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    if cookie:
        request.add_header("Cookie", f"magnet_token={cookie}")
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.integration
def test_review_on_the_page_and_from_the_cli_is_one_inbox(magnet_home, dashboard, browser):
    home, sid = magnet_home, start_waiting_session(magnet_home)
    browser.get(f"{dashboard}/?token={TOKEN}")
    assert sid in text(browser, "#sessions") and "waiting for review" in text(browser, "#sessions")
    browser.get(f"{dashboard}/sessions/{sid}")  # the cookie carries the token from here on
    assert "baseline, seed 0" in text(browser, "#card")
    assert "s left in the budget" in text(browser, "#card")
    first_card = browser.find_element("css selector", "input[name=card]").get_attribute("value")
    csrf = browser.find_element("css selector", "input[name=csrf]").get_attribute("value")

    # Accept on the page: the next experiment starts in another process, and the page shows
    # it without a reload (the marker would be gone after one).
    submit(browser, "#accept")
    assert "Answered" in text(browser, "#notice")
    browser.execute_script("window.notReloaded = true")
    wait_for(lambda: " run " in text(browser, "#trace"), what="the run in the trace")
    wait_for(lambda: "seed 1" in text(browser, "#card"), what="the next card")
    assert browser.execute_script("return window.notReloaded") is True
    assert "ok" in text(browser, "#experiments")

    # The same form sent again answers nothing: the card it names is gone.
    status, body = post(
        f"{dashboard}/sessions/{sid}/answer",
        {"csrf": csrf, "card": first_card, "action": "accept"},
        cookie=TOKEN,
    )
    assert status == 409 and "answered already" in body
    assert len(json.loads(magnet("show", sid, "--json", home=home).stdout)["experiments"]) == 1

    # Reject on the page with a reason: the planner reads it and memory keeps it.
    browser.find_element("css selector", "#reason").send_keys("not now <b>really</b>")
    submit(browser, "#reject")
    browser.execute_script("window.notReloaded = true")
    wait_for(lambda: "waiting for review" in text(browser, "#status") and text(browser, "#card"))
    from magnet.memory.store import FindingsStore

    hits = FindingsStore(home / "memory").search("not now", verdict="rejected", session=sid)
    assert [h.finding.analysis for h in hits] == ["rejected by the reviewer: not now <b>really</b>"]

    # Answered from the CLI in another process: the card leaves the page, the run appears.
    approving = subprocess.Popen(
        [sys.executable, "-m", "magnet.agent.cli", "approve", sid],
        env={**os.environ, "MAGNET_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: not text(browser, "#card") or "running" in text(browser, "#status"))
    assert approving.wait(timeout=180) == 0
    rows = "#experiments tbody tr"
    wait_for(lambda: text(browser, f"{rows}:nth-child(2)"), what="the second run")
    assert browser.execute_script("return window.notReloaded") is True
    if os.environ.get("MAGNET_SCREENSHOT"):  # how the README's picture is made
        browser.save_screenshot(os.environ["MAGNET_SCREENSHOT"])

    # A run directory deleted under the session: its curve says so, the page still serves.
    state = json.loads(magnet("show", sid, "--json", home=home).stdout)
    shutil.rmtree(state["experiments"][0]["run_dir"])
    browser.get(f"{dashboard}/sessions/{sid}/experiments/0/curve.svg")
    assert "is gone" in browser.page_source
    browser.get(f"{dashboard}/sessions/{sid}")
    assert sid in browser.page_source and "<svg" in get_with_cookie(
        f"{dashboard}/sessions/{sid}/experiments/1/curve.svg"
    )


def get_with_cookie(url: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as reply:
        return reply.read().decode()


def test_user_text_is_text_and_nothing_is_served_without_the_token(magnet_home, dashboard, browser):
    sid = TraceStore(magnet_home / "magnet.db").create_session(
        "<script>window.pwned = 1</script> classify <i>scam</i> messages"
    )
    browser.get(f"{dashboard}/")
    assert "refused" in browser.page_source and sid not in browser.page_source
    assert get(f"{dashboard}/sessions/{sid}")[0] == 403
    assert get(f"{dashboard}/static/style.css")[0] == 403

    browser.get(f"{dashboard}/?token={TOKEN}")
    assert "<script>window.pwned = 1</script> classify <i>scam</i>" in text(browser, "#sessions")
    browser.get(f"{dashboard}/sessions/{sid}")
    assert text(browser, "#goal").startswith("<script>window.pwned = 1</script>")
    assert browser.execute_script("return window.pwned") is None

    # A change needs the form token as well as the cookie (no cross-site form can send it).
    status, body = post(f"{dashboard}/sessions/{sid}/answer", {"action": "accept"}, TOKEN)
    assert status == 403 and "access token" in body
    browser.get(f"{dashboard}/sessions/no-such-session")
    assert "no session 'no-such-session'" in text(browser, "#problem")
    csrf = form_token(TOKEN)
    status, body = post(
        f"{dashboard}/sessions/{sid}/answer",
        {"csrf": csrf, "action": "edit", "settings": "lr"},
        TOKEN,
    )
    assert status == 400 and "'lr' is not key=value" in html.unescape(body)
    assert get_with_cookie(f"{dashboard}/sessions/{sid}/events?after=0").startswith('{"status"')


def test_the_dashboard_listens_on_loopback_unless_told_otherwise(magnet_home):
    refused = magnet("ui", "--host", "0.0.0.0", home=magnet_home)
    assert refused.returncode == 1 and "set --token" in refused.stderr
