"""The web page at `GET /`, driven in headless Chromium like a producer would use it.

The API runs over the stages in this process (tiny model) under uvicorn on a free local port;
Selenium drives Debian's `/usr/bin/chromium` through `/usr/bin/chromedriver` (apt-get install
chromium chromium-driver; `.ci/run` installs both). Nothing is downloaded: selenium-manager is
never asked for a browser or a driver. Without Chromium the browser tests fail, saying so,
unless PRODUCER_SKIP_BROWSER=1 (a laptop without it) skips them.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 90  # the longest any step may take (a production is ~5 s here; 2 busy cores)


# ---------------------------------------------------------------------- the page without a browser


@pytest.fixture
def client(make_client):
    return make_client()


def test_page_and_its_assets_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Every asset the page links is served (no CDN: nothing outside this server).
    links = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert "/web/app.js" in links and "/web/style.css" in links
    assert not [link for link in links if link.startswith(("http:", "https:", "//"))]
    for link in ("/web/app.js", "/web/style.css"):
        asset = client.get(link)
        assert asset.status_code == 200 and len(asset.content) > 1000
    assert client.get("/web/app.js").headers["content-type"].startswith("text/javascript")
    # Only the page's own files: no other name, and no way out of the folder.
    for bad in ("/web/index.html", "/web/..%2Fweb.py", "/web/%2e%2e%2fapi.py"):
        missing = client.get(bad)
        assert missing.status_code == 404, bad
        assert missing.json()["error"]["status"] == 404
    assert "/" not in client.get("/openapi.json").json()["paths"]
    # The page explains the selection with the pipeline's own constants.
    from producer.pipeline import BASIC_FAILURE_PENALTY, CRITIC_WEIGHT, FINDING_PENALTY

    hint = re.sub(r"\s+", " ", page.text)
    assert (
        f"less {FINDING_PENALTY:g} per meter finding, {CRITIC_WEIGHT:g} × (1 − critic score) "
        f"and {BASIC_FAILURE_PENALTY:g} per basic check" in hint
    )


def test_plot_of_an_unknown_result_is_a_json_404(client):
    response = client.get(f"/v1/results/{'0' * 32}/plot.png")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "NotFoundError"
    assert client.get("/v1/results/nope/plot.png").status_code == 404


# ---------------------------------------------------------------------- the browser


def _browser_or_fail() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    why = (
        f"the browser test needs {' and '.join(missing)}: "
        "apt-get install -y chromium chromium-driver (Debian), as .ci/run does"
    )
    if os.environ.get("PRODUCER_SKIP_BROWSER") == "1":
        pytest.skip(f"PRODUCER_SKIP_BROWSER=1: {why}")
    pytest.fail(f"{why}; or set PRODUCER_SKIP_BROWSER=1 to skip it", pytrace=False)


@pytest.fixture(scope="module")
def web_server(local_backend, tmp_path_factory):
    """The API (stages in this process) under uvicorn on 127.0.0.1:<free port>."""
    import uvicorn

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    args = ServeArgs(
        checkpoint=local_backend.args.checkpoint,
        store={"dir": str(tmp_path_factory.mktemp("web-results"))},
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_api(local_backend, args), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through its own chromedriver; never a download."""
    _browser_or_fail()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--mute-audio",
        "--window-size=1280,1600",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # selenium-manager, were it ever asked: no network
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def _wait(driver, what: str, condition, timeout: float = WAIT_S):
    """`condition(driver)`'s first truthy value, polled; on timeout, fail with what the page
    shows (its error line and console) rather than a bare TimeoutException."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        error = driver.find_element("id", "error")
        console = [entry["message"] for entry in driver.get_log("browser")]
        pytest.fail(
            f"timed out after {timeout} s waiting for {what}; error line: "
            f"{error.text if error.is_displayed() else '(hidden)'}; console: {console}"
        )


_MASTER_STATE = """
const a = document.getElementById('master');
return {src: a.getAttribute('src') || '', duration: a.duration, error: a.error && a.error.code};
"""


def _master_playable(driver, not_src: str | None = None):
    """The master's state once its audio has loaded with a positive, finite duration."""
    state = driver.execute_script(_MASTER_STATE)
    assert state["error"] is None, f"the browser cannot play the master: {state}"
    duration = state["duration"]
    fresh = state["src"] and state["src"] != not_src
    if fresh and isinstance(duration, int | float) and 0 < duration < float("inf"):
        return state
    return None


def _idle(driver) -> bool:
    return driver.find_element("id", "busy").get_attribute("hidden") is not None


@pytest.mark.slow
def test_a_producer_makes_a_beat_edits_the_mix_and_re_renders(web_server, browser):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(web_server + "/")
    assert driver.title == "producer"
    _wait(
        driver, "the health line", lambda d: "server ready" in d.find_element(By.ID, "health").text
    )

    # Make a beat: a prompt and the shortest duration the API allows.
    driver.find_element(By.ID, "prompt").send_keys("dark trap beat at 140 bpm in F minor")
    duration = driver.find_element(By.ID, "duration")
    minimum = duration.get_attribute("min")
    assert float(minimum) == 0.5
    duration.clear()
    duration.send_keys(minimum)
    produce = driver.find_element(By.ID, "produce")
    produce.click()
    # While it works (seconds) the buttons are disabled and the busy line counts.
    assert not produce.is_enabled() and not _idle(driver)
    assert "Planning" in driver.find_element(By.ID, "busy-text").text
    first = _wait(driver, "the master to load", _master_playable)
    assert first["duration"] == pytest.approx(0.5, abs=0.05)
    _wait(driver, "the page to be idle", _idle)
    assert produce.is_enabled()
    assert not driver.find_element(By.ID, "error").is_displayed()

    # The plan, the quality report, the stems (players + downloads) and the script all show.
    plan = driver.find_element(By.ID, "plan").text
    assert "140 bpm" in plan and "F minor" in plan
    quality = driver.find_element(By.ID, "quality").text
    assert re.search(r"loudness\s+-1[345]\.\d LUFS", quality), quality
    stems = driver.find_elements(By.CSS_SELECTOR, "#stems li")
    roles = [li.get_attribute("data-role") for li in stems]
    assert "drums" in roles and "bass" in roles
    for li in stems:
        link = li.find_element(By.TAG_NAME, "a")
        assert link.get_attribute("download") == f"{li.get_attribute('data-role')}.wav"
        assert li.find_element(By.TAG_NAME, "audio").get_attribute("src") == link.get_attribute(
            "href"
        )
    assert len(driver.find_elements(By.CSS_SELECTOR, "#bands .band-track")) >= 5
    # The mix critic's verdict under the meters, and its score per candidate.
    critic = driver.find_element(By.ID, "critic").text
    assert re.search(r"basics (pass|fail) · score [01]\.\d\d / 1", critic), critic
    assert driver.find_elements(By.CSS_SELECTOR, "#critic-findings li")
    rows = driver.find_elements(By.CSS_SELECTOR, "#candidates-table tr")
    assert rows and all(re.search(r"[01]\.\d\d \(basics (pass|fail)\)", r.text) for r in rows)
    script = driver.find_element(By.ID, "script")
    original = script.get_attribute("value")
    assert "master_process" in original and all(f"{r}_process" in original for r in roles)
    # The plot (report_plot's PNG) is drawn on request and decodes in the browser.
    _wait(
        driver,
        "the plot image",
        lambda d: d.execute_script(
            "const i = document.getElementById('plot'); return i.complete && i.naturalWidth;"
        ),
    )
    assert driver.execute_script("return document.getElementById('plot').naturalWidth") == 1400

    # Edit the mix (the drums 6 dB down) and re-render: a new master, the edited script.
    edited = re.sub(r"(drums_process = )", r"\1*(0.5) : ", original, count=1)
    assert edited != original
    driver.execute_script("arguments[0].value = arguments[1];", script, edited)
    script.send_keys(" ")  # a real keystroke too, as a person editing would
    driver.find_element(By.ID, "rerender").click()
    second = _wait(driver, "the re-rendered master", lambda d: _master_playable(d, first["src"]))
    assert second["duration"] == pytest.approx(0.5, abs=0.05)
    _wait(driver, "the page to be idle", _idle)
    assert "re-rendered" in driver.find_element(By.ID, "result-meta").text
    assert "*(0.5) : " in script.get_attribute("value")

    # A hostile script is refused: the error line says why, the master stays.
    hostile = 'import("stdfaust.lib");\nprocess = ffunction(int rand(), <stdlib.h>, "");'
    driver.execute_script("arguments[0].value = arguments[1];", script, hostile)
    driver.find_element(By.ID, "rerender").click()
    _wait(driver, "the error line", lambda d: d.find_element(By.ID, "error").is_displayed())
    error = driver.find_element(By.ID, "error").text
    assert "ffunction" in error and "422" in error, error
    _wait(driver, "the page to be idle", _idle)
    assert driver.execute_script(_MASTER_STATE)["src"] == second["src"]


def test_chromium_missing_fails_with_a_clear_message_unless_skipped(monkeypatch, tmp_path):
    """Without the browser the test fails naming the package; PRODUCER_SKIP_BROWSER=1 skips."""
    monkeypatch.setitem(globals(), "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("PRODUCER_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _browser_or_fail()
    monkeypatch.setenv("PRODUCER_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="PRODUCER_SKIP_BROWSER=1"):
        _browser_or_fail()
