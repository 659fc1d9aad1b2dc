"""Drive headless Chromium over the DevTools protocol on a pipe (no extra dependency).

``inspect_page(path)`` opens a local HTML file and returns what a person would notice: images
that failed to load, console errors and uncaught exceptions, and a PNG screenshot;
``print_to_pdf(path, pdf)`` prints it as ``--print-to-pdf`` does and reports the printed layout.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


_LAUNCHER = """
import os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
hi_r, hi_w = os.dup(r), os.dup(w)
os.dup2(hi_r, 3)
os.dup2(hi_w, 4)
os.set_inheritable(3, True)
os.set_inheritable(4, True)
os.execv(sys.argv[3], sys.argv[3:])
"""


class _Pipe:
    def __init__(self, binary: str, user_dir: str):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        # Chromium reads commands on fd 3 and writes replies on fd 4. A tiny Python launcher
        # moves the pipe ends there (via fds out of the way) and execs Chromium, so this
        # multithreaded process needs no preexec_fn.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(to_chrome_r), str(from_chrome_w),
             binary, *FLAGS, f"--user-data-dir={user_dir}", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: close() ends every helper process
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout=30.0):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def _read(self) -> dict:
        while b"\0" not in self._buf:
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - best effort before killing
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        os.close(self._w)
        os.close(self._r)


LAYOUT_SCRIPT = """(() => {
  const vw = document.documentElement.clientWidth;
  const closed = [...document.querySelectorAll('details')].filter(d => !d.open);
  const folded = el => el.closest('details') !== null && !el.closest('details').open;
  const visibleTables = [...document.querySelectorAll('table')].filter(t => !folded(t)).length;
  const firstScreen = [...document.querySelectorAll('.headline, .finding')]
    .filter(e => e.getBoundingClientRect().bottom <= 900).map(e => e.className);
  const heightFolded = document.documentElement.scrollHeight;
  closed.forEach(d => { d.open = true; });
  const opened = [...document.querySelectorAll('details')].every(d => d.open &&
    [...d.children].some(c => c.tagName !== 'SUMMARY' && c.getBoundingClientRect().height > 0));
  const clipped = el => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return a.getBoundingClientRect().right <= vw + 1;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.right > vw + 1 || r.left < -1) && !clipped(el);
  }).map(el => el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''));
  return JSON.stringify({
    viewport: vw, height: heightFolded, height_open: document.documentElement.scrollHeight,
    scroll_width: document.documentElement.scrollWidth, wide: wide.slice(0, 20), n_wide: wide.length,
    details: closed.length + [...document.querySelectorAll('details')].length - closed.length,
    details_open: opened, tables_unfolded: visibleTables, tables: document.querySelectorAll('table').length,
    first_screen: firstScreen,
    images_without_alt: [...document.images].filter(i => !(i.getAttribute('alt') || '').trim())
      .map(i => i.getAttribute('src')),
  });
})()"""


@contextlib.contextmanager
def _page(path: str, width: int, height: int, media: str = "screen"):
    """An open Chromium tab showing ``path`` at ``width`` x ``height`` CSS pixels, loaded;
    yields ``(pipe, session)``."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium")
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as user_dir:
        pipe = _Pipe(binary, user_dir)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            pipe.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
            if media == "print":  # a printed page has no scroll bar to take width from the layout
                pipe.send("Emulation.setScrollbarsHidden", {"hidden": True}, session=session)
            pipe.send("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=session)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if _evaluate(pipe, session, "document.readyState") == "complete":
                    break
                time.sleep(0.1)
            yield pipe, session
        finally:
            pipe.close()


def _evaluate(pipe: _Pipe, session: str, expression: str):
    return pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                     session=session)["result"]["value"]


def inspect_page(path: str, screenshot: str | None = None, width: int = 1200, height: int = 900,
                 script: str | None = None) -> dict:
    """Load ``path`` in headless Chromium; return broken images, console errors, page title
    and, with ``script`` (a JavaScript expression giving a JSON string, e.g.
    :data:`LAYOUT_SCRIPT`), what it returns under the key ``"script"``."""
    with _page(path, width, height) as (pipe, session):
        result = json.loads(_evaluate(pipe, session,
            "JSON.stringify({title: document.title, images: document.images.length,"
            " broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.getAttribute('src'))})"))
        if script is not None:
            result["script"] = json.loads(_evaluate(pipe, session, script))
        if screenshot:
            shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                             session=session)
            with open(screenshot, "wb") as fh:
                fh.write(base64.b64decode(shot["data"]))
        errors = []
        for ev in pipe.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                errors.append(p.get("exceptionDetails", {}).get("text", "exception"))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(p["entry"].get("text", ""))
        result["console_errors"] = errors
        return result


# A4 with 0.4 inch margins; Chromium lays a printed page out at 96 CSS pixels per inch.
PAPER = {"paperWidth": 8.27, "paperHeight": 11.69, "marginTop": 0.4, "marginBottom": 0.4,
         "marginLeft": 0.4, "marginRight": 0.4}

PRINT_SCRIPT = """(() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });  // what 'beforeprint' does
  const vw = document.documentElement.clientWidth;
  const cut = [...document.querySelectorAll('table, img')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.right > vw + 1 || (el.tagName === 'TABLE' && el.scrollWidth > el.clientWidth + 1);
  }).map(el => (el.closest('[id]') || {}).id + ' ' + el.tagName);
  return JSON.stringify({viewport: vw, height: document.documentElement.scrollHeight,
                         tables: document.querySelectorAll('table').length, cut: cut});
})()"""


def print_to_pdf(path: str, pdf: str) -> dict:
    """Print ``path`` to ``pdf`` as Chromium's ``--print-to-pdf`` does (A4, :data:`PAPER`),
    and return what the printed layout shows: the printable width in CSS pixels, the tables
    and images that reach past the right margin or are clipped (``cut``), and the PDF's
    page count (``pages``)."""
    width = round((PAPER["paperWidth"] - PAPER["marginLeft"] - PAPER["marginRight"]) * 96)
    height = round((PAPER["paperHeight"] - PAPER["marginTop"] - PAPER["marginBottom"]) * 96)
    with _page(path, width, height, media="print") as (pipe, session):
        result = json.loads(_evaluate(pipe, session, PRINT_SCRIPT))
        printed = pipe.send("Page.printToPDF", {**PAPER, "printBackground": True}, session=session, timeout=120)
    data = base64.b64decode(printed["data"])
    with open(pdf, "wb") as fh:
        fh.write(data)
    result["pages"] = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    result["page_tree_count"] = max((int(n) for n in re.findall(rb"/Count\s+(\d+)", data)), default=0)
    result["page_height"] = height
    return result
