"""End to end: the weekly run over the committed demo workspaces, as cron runs it (`rolloutkit report` in a process
of its own), then every page judged by a real browser with the network cut.

nbval alone misses failures that only break papermill runs (parameter injection, the kernel, HTML export). The
demo is rendered once per test session, with a team notebook beside the built-in pages.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rolloutkit import paths
from rolloutkit.memo import NOTEBOOKS, TITLES

AS_OF = "2026-11-22"
WEEK = "2026-W47"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
MAX_PAGE_BYTES = 2 * 1024 * 1024
PROGRESS = re.compile(r"^\[\d+/\d+\] [\w-]+ \d{4}-W\d\d \w+: ok \(\d+(\.\d+)? s\)$")
AGENTS = sorted(p.name for p in paths.DEMO_DIR.iterdir() if (p / "charter.yaml").exists())


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """`rolloutkit report data/demo --as-of 2026-11-22 --notebooks DIR` into a fresh folder: (out, process)."""
    root = tmp_path_factory.mktemp("weekly")
    own = root / "team"
    own.mkdir()
    parameters = nbformat.v4.new_code_cell('workspace: str = ""  # workspace folder\nas_of: str | None = None  # day')
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Team notes"), parameters,
        nbformat.v4.new_code_cell("import rolloutkit as rk\nrk.load_workspace(workspace).agent")])
    nb.metadata["kernelspec"] = {"name": "rolloutkit", "display_name": "rolloutkit", "language": "python"}
    nbformat.write(nb, own / "team_notes.ipynb")
    out = root / "reports"
    done = subprocess.run([sys.executable, "-m", "rolloutkit.cli", "report", str(paths.DEMO_DIR), "--out", str(out),
                           "--as-of", AS_OF, "--jobs", "2", "--notebooks", str(own)],
                          capture_output=True, text=True, timeout=1800)
    return out, done


@pytest.mark.slow
def test_every_notebook_renders_for_every_demo_agent(rendered):
    out, done = rendered
    assert done.returncode == 0, done.stdout + done.stderr
    for agent in AGENTS:
        week = out / agent / WEEK
        summary = json.loads((week / "summary.json").read_text())
        assert {nb: s["status"] for nb, s in summary["notebooks"].items()} == dict.fromkeys(
            (*NOTEBOOKS, "team_notes"), "ok")
        assert {f"{nb}.html" for nb in NOTEBOOKS} | {"index.html", "summary.json"} <= {p.name for p in week.iterdir()}
        assert "<a href='team_notes.html'>Team notes</a>" in (week / "index.html").read_text()
        assert agent in (week / "team_notes.html").read_text()


@pytest.mark.slow
def test_a_clean_run_prints_only_progress_and_result_lines(rendered):
    out, done = rendered
    errors = done.stderr.splitlines()
    assert len(errors) == len(AGENTS) * (len(NOTEBOOKS) + 1)
    assert [line for line in errors if not PROGRESS.match(line)] == [], "no papermill/ipykernel/traitlets chatter"
    assert done.stdout.splitlines() == [
        f"{len(errors)} notebooks rendered into {out}", *(f"  {agent}/{WEEK}/index.html" for agent in AGENTS),
        f"portfolio: {out / 'index.html'}"]


@pytest.mark.slow
def test_pages_are_self_contained_and_small(rendered):
    out, _ = rendered
    pages = list(out.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text()
        assert not EXTERNAL.search(text), f"{page} references another host"
        assert "<script src" not in text
        assert page.stat().st_size < MAX_PAGE_BYTES, f"{page} is {page.stat().st_size:,} bytes"


@pytest.mark.slow
def test_summary_json_carries_every_phase_decision(rendered):
    out, _ = rendered
    for agent in AGENTS:
        summary = json.loads((out / agent / WEEK / "summary.json").read_text())
        assert set(summary["decisions"]) == set(TITLES)
        assert all(d["status"] != "error" for d in summary["decisions"].values()), summary["decisions"]
        assert summary["changes"] and all(c["kind"] != "error" and c["sentence"] for c in summary["changes"])
    portfolio = (out / "index.html").read_text()
    assert all(f"{agent}/{WEEK}/index.html" in portfolio for agent in AGENTS)


# --- the browser as the judge -------------------------------------------------------------------------------------

#: Every chart output of the page: drawn or not, and its marks (elements of vega's `role-mark` groups).
CHARTS_JS = r"""(() => {
  const marks = (root) => {
    const all = [...root.querySelectorAll('.role-mark path, .role-mark rect, .role-mark circle, .role-mark line,'
      + ' .role-mark polygon, .role-mark polyline, .role-mark ellipse, .role-mark text')];
    return {marks: all.length, shapes: all.filter(e => e.tagName.toLowerCase() !== 'text').length};
  };
  return [...document.querySelectorAll('[data-mime-type="image/svg+xml"]')].map(output => {
    const svg = output.querySelector('svg');
    if (svg) {
      const box = svg.getBoundingClientRect();
      return {kind: 'inline', drawn: box.width > 0 && box.height > 0, ...marks(svg)};
    }
    const img = output.querySelector('img');
    if (!img) return {kind: 'none', drawn: false, marks: 0, shapes: 0};
    const data = /^data:image\/svg\+xml;base64,(.*)$/.exec(img.getAttribute('src') || '');
    const doc = data ? new DOMParser().parseFromString(atob(data[1]), 'image/svg+xml') : null;
    return {kind: 'img', drawn: img.complete && img.naturalWidth > 0, ...(doc ? marks(doc) : {marks: 0, shapes: 0})};
  });
})()"""
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (no port, no websocket library).

    The network is cut twice: every proxy connection goes to a closed port and no host name resolves. The
    protocol's `Network.requestWillBeSent` lists every request a page makes, file, data and http alike, even
    those the cut network then fails — so "nothing but file: and data: was requested" is checked, not assumed.
    """

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe")

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # the protocol's fds: Chromium reads 3 and writes 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen([binary, *self.FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=wire, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Network.enable", session=True)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._from_chrome], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise EOFError("Chromium exited")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, *, session: bool = False, timeout: float = 30, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._id:
                assert "error" not in answer, answer
                return answer["result"]
            self.events.append(answer)

    def open(self, page: Path) -> tuple[list[dict], list[str]]:
        """Load a page; its charts (see CHARTS_JS) and every URL it requested."""
        self.events = []
        self.call("Page.navigate", session=True, url=page.resolve().as_uri())
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._receive(deadline))
        charts = self.call("Runtime.evaluate", session=True, expression=CHARTS_JS,
                           returnByValue=True)["result"]["value"]
        requested = [e["params"]["request"]["url"] for e in self.events
                     if e.get("method") == "Network.requestWillBeSent"]
        return charts, requested

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (EOFError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    binary = shutil.which(os.environ["CHROMIUM"]) if os.environ.get("CHROMIUM") else next(
        (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
    if binary is None:
        pytest.fail("The browser test needs headless Chromium and none was found. Install it with "
                    "`sudo apt-get install chromium` (Debian/Ubuntu; `.ci/run` does this on CI), or point "
                    "CHROMIUM at a Chromium or Chrome binary.", pytrace=False)
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _external(urls: list[str]) -> list[str]:
    return [url for url in urls if not url.startswith(LOCAL_SCHEMES)]


def svg_outputs(executed: Path) -> int:
    """Chart outputs (SVG) of an executed notebook: what its page must show."""
    nb = nbformat.read(executed, as_version=4)
    return sum("image/svg+xml" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.slow
def test_every_demo_page_draws_its_charts_offline_in_a_browser(rendered, browser):
    out, _ = rendered
    pages = sorted(out.rglob("*.html"))
    # Per agent and week: the index, the summary, one per phase and the team page; plus the portfolio.
    assert len(pages) == 1 + len(AGENTS) * (len(NOTEBOOKS) + 2)
    drawn = []
    for page in pages:
        charts, requested = browser.open(page)
        name = str(page.relative_to(out))
        assert _external(requested) == [], f"{name} asked the network for {_external(requested)}"
        assert requested[0] == page.resolve().as_uri()
        undrawn = [c for c in charts if not (c["drawn"] and c["marks"] > 0)]
        assert undrawn == [], f"{name}: {len(undrawn)} of {len(charts)} charts did not draw: {undrawn}"
        executed = page.with_name("summary.ipynb") if page.name == "index.html" else page.with_suffix(".ipynb")
        if executed.exists():
            assert len(charts) == svg_outputs(executed), f"{name}: a chart of the notebook is missing on the page"
        drawn += charts
    with_data = sum(c["shapes"] > 0 for c in drawn)
    assert with_data >= 40, "the demo's pages draw data, not only placeholders"
    print(f"\nbrowser: {len(pages)} pages, {len(drawn)} charts drawn ({with_data} with data marks, "
          f"{len(drawn) - with_data} text-only placeholders), 0 requests off the machine")


def test_the_browser_check_catches_external_requests_and_blank_charts(tmp_path, browser):
    """The judge can fail: a page that loads from another host, and a chart output with no marks."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><link rel='stylesheet' href='https://cdn.example.com/x.css'></head><body>"
        "<img src='http://example.com/pixel.png'>"
        "<div data-mime-type='image/svg+xml'><svg width='20' height='20'><g class='role-axis'><path d='M0,0h9'/>"
        "</g></svg></div>"
        "<div data-mime-type='image/svg+xml'><svg width='20' height='20'><g class='mark-rect role-mark'>"
        "<path d='M0,0h9v9h-9Z'/></g></svg></div></body></html>")
    charts, requested = browser.open(page)
    assert sorted(_external(requested)) == ["http://example.com/pixel.png", "https://cdn.example.com/x.css"]
    assert [(c["drawn"], c["marks"]) for c in charts] == [(True, 0), (True, 1)]
