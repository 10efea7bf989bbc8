"""Open a fixture report in headless Chromium: every section renders, nothing is fetched,
no console errors; a screenshot is saved beside the report for a human look."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_deck import load_params, make_run

from helpers.present import deck

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                    reason="headless Chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_chromium(tmp_path):
    store = make_run(tmp_path)
    report_dir = tmp_path / "reports" / "fixture"
    out = deck.build_report(store, load_params(), report_dir / "report.html")
    url = out.resolve().as_uri()
    html = out.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)="\s*(?:https?:)?//', html)  # nothing to fetch

    dom = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    for sid, _title in deck.SECTIONS:
        assert f'id="{sid}"' in rendered, sid
    assert rendered.count("<img") >= 3
    # the gains chart: drawn, titled with the winner, its legend in the chart's scheme order
    from helpers.analyse.lift import gains_finding
    from helpers.present.plots import scheme_colours

    lift_long = store.read("lift")
    part = rendered[rendered.index('id="method-models"'):]
    part = part[:part.index("</section>")]
    assert f'alt="{gains_finding(lift_long)}"' in part
    legend = re.findall(r'class="swatch"[^>]*></span>([^<]+)</li>', part)
    assert legend == list(scheme_colours(lift_long))
    assert "<script" not in rendered.lower()
    console = [ln for ln in dom.stderr.splitlines()
               if "CONSOLE" in ln or "Refused to" in ln or "Content Security Policy" in ln]
    assert not console, console

    shot = report_dir / "report.png"
    res = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 20_000
