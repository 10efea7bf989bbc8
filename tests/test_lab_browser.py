"""The analyst's path in JupyterLab, in a real browser (Selenium + Debian's headless Chromium).

The test starts JupyterLab itself (a free loopback port, a random token, a scratch copy of the
project as its root, its own Jupyter config/data/runtime/settings folders, so nothing is written
into the repository), then does what an analyst does: open 01, Run All, check there is no error
and every chart cell holds an image, change one score weight by typing into its box and check the
top-10 table changes; run 02 and 03 (papermill, as `workbook run` would); open 04, Run All,
step the explorer to another variable and the tree-root picker to another root with the arrow
key, and check each view changes while JupyterLab's active cell stays put. Screenshots go to a
folder under the test's tmp dir and are copied to ``reports/browser-test/`` (git-ignored) for a
human look.

Skipped only when the browser or its driver (``chromium``, ``chromium-driver``) or selenium is
not installed: `.ci/run` installs them on a fresh CI machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, chart_cells, scratch_project

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
KERNEL = "segmentation-workbook"
RUN_ID = "lab-demo"  # the notebooks' own default: what an analyst gets in JupyterLab
SHOTS = ROOT / "reports" / "browser-test"
RUN_TIMEOUT = 240  # seconds for one notebook's Run All on a loaded 2-core machine
UI_TIMEOUT = 30
# JupyterLab settings for a quiet, fully rendered notebook: every cell in the DOM (no
# windowing), no news / update pop-ups over the widgets.
SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install -e '.[dev]')"
    for exe, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(exe).exists():
            return f"{pkg} not installed (apt-get install -y chromium chromium-driver)"
    return None


if (_why := _missing()) is not None:
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason=f"browser test skipped: {_why}")]


# ----------------------------------------------------------------------------- JupyterLab
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_env(base: Path, root: Path) -> dict[str, str]:
    """Environment of the Jupyter server and its kernels: the scratch project as the workbook
    root, private Jupyter folders (the workbook kernel registered there), no forced backend."""
    dirs = {k: base / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                                          "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                                          "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    spec = dirs["JUPYTER_DATA_DIR"] / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Segmentation workbook (Python 3)", "language": "python"}))
    for plugin, values in SETTINGS.items():
        pkg, name = plugin.split(":")
        f = dirs["JUPYTERLAB_SETTINGS_DIR"] / pkg / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_PATH")}
    env.update({k: str(v) for k, v in dirs.items()})
    env["WORKBOOK_ROOT"] = str(root)
    return env


class Lab:
    """A JupyterLab server started for the test; :meth:`stop` always shuts it down."""

    def __init__(self, base: Path, root: Path) -> None:
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        self.env = _lab_env(base, root)
        self.log = base / "jupyterlab.log"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.allow_root=True", "--ServerApp.terminals_enabled=False",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self.proc = subprocess.Popen(cmd, cwd=root, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _api(self, path: str, method: str = "GET") -> int:
        return self._call(path, method)[0]

    def _call(self, path: str, method: str = "GET") -> tuple[int, bytes]:
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - loopback only
            return r.status, r.read()

    def kernel_state(self, path: str) -> str | None:
        """The execution state of the kernel the server runs for notebook ``path``, if any."""
        for sess in json.loads(self._call("/api/sessions")[1] or b"[]"):
            if sess.get("path") == path and sess.get("kernel"):
                return sess["kernel"].get("execution_state")
        return None

    def _wait_up(self, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {self.log.read_text()[-3000:]}")
            try:
                if self._api("/api/status") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start in {timeout} s: "
                           f"{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Ask the server to shut down (it stops its kernels), then make sure it is gone."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self._api("/api/shutdown", method="POST")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)


# ----------------------------------------------------------------------------- browser
def _chrome(base: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={base / 'chrome-profile'}"):
        opts.add_argument(flag)
    service = Service(CHROMEDRIVER, log_output=str(base / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    return driver


def wait_for(driver, predicate: Callable[[], object], timeout: float = UI_TIMEOUT,
             what: str = "condition", poll: float = 0.2) -> object:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=poll).until(
        lambda _d: predicate(), message=f"timed out after {timeout} s waiting for {what}")


# cells of the open notebook, as the test needs them (kept in one script: one round trip)
CELLS_JS = """
const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
if (!nb) return null;
return Array.from(nb.querySelectorAll('.jp-CodeCell')).map(c => {
  const prompt = c.querySelector('.jp-InputArea-prompt');
  return {prompt: prompt ? prompt.textContent.trim() : '',
          images: c.querySelectorAll('.jp-OutputArea-output img').length,
          errors: Array.from(c.querySelectorAll('.jp-OutputArea-output'))
                    .filter(o => /Traceback|Error:|\\w+Error\\b/.test(o.textContent) &&
                                 o.getAttribute('data-mime-type') ===
                                   'application/vnd.jupyter.stderr')
                    .map(o => o.textContent.slice(0, 400)),
          widgets: c.querySelectorAll('.jp-OutputArea-output .widget-box, '
                                      + '.jp-OutputArea-output .jupyter-widgets').length,
          text: c.querySelector('.jp-InputArea-editor').textContent};
});
"""


class Notebook:
    """One notebook opened in the lab tab of the browser."""

    def __init__(self, driver, lab: Lab, path: str, shots: Path) -> None:
        self.driver, self.lab, self.path, self.shots = driver, lab, path, shots
        driver.get(f"{lab.url}/lab/tree/{path}?token={lab.token}")
        wait_for(driver, lambda: self.cells(), 90, f"{path} to open")
        wait_for(driver, self.ready, 120, f"the kernel of {path} to start")

    def cells(self) -> list[dict]:
        return self.driver.execute_script(CELLS_JS) or []

    def kernel_idle(self) -> bool:
        """The notebook's toolbar shows an idle kernel."""
        return bool(self.driver.execute_script(
            "const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook-ExecutionIndicator');"
            "return s && s.getAttribute('data-status') === 'idle';"))

    def ready(self) -> bool:
        """The server runs an idle kernel for this notebook and the page is connected to it
        (the toolbar says idle before a kernel exists: both are needed), no dialog open."""
        self.answer_kernel_dialog()
        return (self.lab.kernel_state(self.path) == "idle" and self.kernel_idle()
                and not self.driver.find_elements("css selector", ".jp-Dialog"))

    def answer_kernel_dialog(self) -> bool:
        """JupyterLab asks for a kernel when its kernel list arrives late (a busy machine):
        answer with the workbook kernel. Returns whether a dialog was answered."""
        from selenium.webdriver.support.ui import Select

        for dialog in self.driver.find_elements("css selector", ".jp-Dialog"):
            if "Select Kernel" not in dialog.text:
                continue
            for sel in dialog.find_elements("css selector", "select"):
                wanted = [o.text for o in Select(sel).options if "Segmentation workbook" in o.text]
                if wanted:
                    Select(sel).select_by_visible_text(wanted[0])
            dialog.find_element("css selector", ".jp-Dialog-button.jp-mod-accept").click()
            return True
        return False

    def click_menu(self, menu: str, command: str) -> None:
        """Click a main-menu entry (the mouse path an analyst takes)."""
        from selenium.webdriver.common.by import By

        bar = wait_for(self.driver, lambda: [
            m for m in self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
            if m.text.strip() == menu], what=f"the {menu} menu")
        bar[0].click()
        item = wait_for(self.driver, lambda: self.driver.find_elements(
            By.CSS_SELECTOR, f".lm-Menu-item[data-command='{command}']"),
            what=f"menu item {command}")
        item[0].click()

    def run_all(self) -> list[dict]:
        """Run > Run All Cells, then wait until every code cell ran or one failed."""
        self.click_menu("Run", "runmenu:run-all")

        def finished() -> list[dict] | None:
            if self.answer_kernel_dialog():  # the run was lost with the dialog: run again
                wait_for(self.driver, self.ready, 120, f"the kernel of {self.path}")
                self.click_menu("Run", "runmenu:run-all")
                return None
            cells = self.cells()
            if any(c["prompt"] == "[*]:" for c in cells) or not self.kernel_idle():
                return None
            done = all(c["prompt"][1:-2].isdigit() for c in cells)
            return cells if done or any(c["errors"] for c in cells) else None

        try:
            return wait_for(self.driver, finished, RUN_TIMEOUT, f"Run All of {self.path}", 0.5)
        except Exception:
            self.screenshot(f"timeout-{Path(self.path).stem}")
            states = [(c["prompt"], c["errors"]) for c in self.cells()]
            pytest.fail(f"Run All of {self.path} did not finish: kernel idle "
                        f"{self.kernel_idle()}, cells {states}")

    def screenshot(self, name: str, element=None) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        out = self.shots / f"{name}.png"
        if element is not None:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", element)
            element.screenshot(str(out))
        else:
            self.driver.save_screenshot(str(out))
        return out


def _visible_and_on_top(driver, element) -> bool:
    """The element has a size and is the topmost thing at its centre (nothing drawn over it)."""
    return bool(driver.execute_script("""
        const e = arguments[0]; e.scrollIntoView({block: 'center'});
        const r = e.getBoundingClientRect();
        if (r.width < 20 || r.height < 10) return false;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit === e || e.contains(hit);""", element))


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("lab")
    root = scratch_project(base / "project")
    shots = base / "screenshots"
    shutil.rmtree(SHOTS, ignore_errors=True)  # no stale screenshot of an earlier run
    lab = Lab(base, root)
    driver = None
    try:
        driver = _chrome(base)
        yield {"lab": lab, "driver": driver, "root": root, "shots": shots, "base": base}
    finally:
        try:
            if driver is not None:
                driver.quit()
        finally:
            lab.stop()
            if shots.exists():  # kept with the test run and beside the worktree's reports
                shutil.copytree(shots, SHOTS, dirs_exist_ok=True)


def _papermill(root: Path, env: dict[str, str], name: str) -> None:
    """Run one notebook for the lab run id as the chain would (a fresh kernel, interactive
    off), so the next notebook opened in the browser has its inputs."""
    code = ("import papermill as pm, sys; pm.execute_notebook(sys.argv[1], sys.argv[2], "
            f"kernel_name={KERNEL!r}, cwd=sys.argv[3], progress_bar=False, "
            f"parameters={{'run_id': {RUN_ID!r}, 'interactive': False}})")
    out = root / "executed" / f"{name}.ipynb"
    out.parent.mkdir(exist_ok=True)
    res = subprocess.run([sys.executable, "-c", code, str(root / "notebooks" / f"{name}.ipynb"),
                          str(out), str(root / "notebooks")], env=env, capture_output=True,
                         text=True, timeout=RUN_TIMEOUT)
    assert res.returncode == 0, res.stderr[-3000:]


# ----------------------------------------------------------------------------- the path
def test_01_runs_with_charts_and_a_usable_weights_panel(session):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, lab, root = session["driver"], session["lab"], session["root"]
    nb = Notebook(driver, lab, "notebooks/01_setup.ipynb", session["shots"])
    cells = nb.run_all()
    assert not [c["errors"] for c in cells if c["errors"]], "error output in 01"
    charts = chart_cells(root / "notebooks" / "01_setup.ipynb")
    assert sum(charts.values()) >= 3
    assert all(cells[i]["images"] == n for i, n in charts.items()), \
        [(i, cells[i]["text"][:60], cells[i]["images"], n) for i, n in charts.items()]
    assert "<Figure size" not in driver.find_element(By.TAG_NAME, "body").text
    code_cells = driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell")
    images = [img for i in sorted(charts)
              for img in code_cells[i].find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img")]
    for k, img in enumerate(images, start=1):
        nb.screenshot(f"01-chart-{k}", img)

    panel = wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".wb-weights-panel"),
                     what="the weights panel")[0]
    box = panel.find_element(By.CSS_SELECTOR, ".wb-weight-growth_bonus_weight input")
    assert _visible_and_on_top(driver, box), "the weight box is hidden under the tables"
    top = panel.find_element(By.CSS_SELECTOR, ".wb-weights-top")
    wait_for(driver, lambda: "<table" in top.get_attribute("innerHTML"), what="the top 10")
    before = top.get_attribute("innerHTML")
    nb.screenshot("01-weights-before", panel)

    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("4")  # 8x the growth bonus: fast growers move up the top 10
    wait_for(driver, lambda: top.get_attribute("innerHTML") != before,
             what="the top-10 table to change after typing a weight")
    assert "<table" in top.get_attribute("innerHTML")
    status = panel.find_element(By.CSS_SELECTOR, ".wb-weights-status").text
    assert "top quarter" in status, status
    nb.screenshot("01-weights-after", panel)


def test_04_explorer_changes_view(session):
    from selenium.webdriver.common.by import By

    driver, lab, root = session["driver"], session["lab"], session["root"]
    for name in ("02_hypotheses", "03_data_collection"):
        _papermill(root, lab.env, name)
    nb = Notebook(driver, lab, "notebooks/04_analysis.ipynb", session["shots"])
    cells = nb.run_all()
    assert not [c["errors"] for c in cells if c["errors"]], "error output in 04"
    charts = chart_cells(root / "notebooks" / "04_analysis.ipynb")
    assert all(cells[i]["images"] >= n for i, n in charts.items()), "04 lacks a chart"

    explorer = wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".wb-explorer"),
                        what="the variable explorer")[0]
    wait_for(driver, lambda: "<img" in explorer.get_attribute("innerHTML"),
             what="the explorer's chart")
    picker = driver.find_element(By.CSS_SELECTOR, ".wb-explorer-picker")
    panel = picker.find_element(By.XPATH, "../..")
    nb.screenshot("04-explorer-before", panel)
    check_widget_changes_view(driver, picker, explorer, step_with_arrow_key, "explorer")
    nb.screenshot("04-explorer-after", panel)
    # the tree-root picker (helpers.analyse.rootpicker): a slider labelled "tree root" above the
    # tree drawn as HTML; step to the next root with the arrow key, the tree must change
    root_picker = driver.find_elements(By.CSS_SELECTOR, ".wb-root-picker")
    assert root_picker, "the tree-root picker of 04 is missing"
    assert "tree root" in root_picker[0].text
    box = root_picker[0].find_element(
        By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]")
    tree_view = box.find_element(By.XPATH, "./*[2]")
    check_widget_changes_view(driver, root_picker[0], tree_view, step_with_arrow_key,
                              "tree root")
    nb.screenshot("04-tree-root-after", box)


def check_widget_changes_view(driver, control, view, act: Callable, name: str) -> None:
    """A notebook widget works in the browser: ``act(driver, control)`` (what a person does
    to it) changes what ``view`` shows. Reusable for every widget of the notebooks."""
    before = view.get_attribute("innerHTML")
    act(driver, control)
    wait_for(driver, lambda: view.get_attribute("innerHTML") != before,
             what=f"the {name} view to change")


ACTIVE_CELL_JS = """
return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell'))
  .findIndex(c => c.classList.contains('jp-mod-active'));"""


def step_with_arrow_key(driver, slider) -> None:
    """Step a selection slider to its next option (the previous one at the end) with the
    keyboard, as a person does after clicking it: the arrow key must change the value and
    leave the notebook's active cell where it is (on a dropdown the arrow keys also move the
    active cell in JupyterLab 4)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
    handle.click()
    before, cell = readout.text, driver.execute_script(ACTIVE_CELL_JS)
    at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    ActionChains(driver).send_keys(Keys.ARROW_LEFT if at_end else Keys.ARROW_RIGHT).perform()
    wait_for(driver, lambda: readout.text != before, what="the arrow key to step the slider")
    assert driver.execute_script(ACTIVE_CELL_JS) == cell, "the arrow key moved the active cell"
