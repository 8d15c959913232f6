#!/usr/bin/env python3
"""Headless-browser test of the Swagger UI docs page served at <base>/docs.

Starts Debian's chromium headless, drives it over the Chrome DevTools Protocol (websocket-client) and checks:

1. Swagger UI renders operations (`.opblock`) within ~30 s;
2. every (path, method) of the spec's `paths` is listed as an operation;
3. "Try it out" on POST /api/v1/login with the demo credentials answers 200 with a body containing "authToken";
4. writes a full-page PNG screenshot (also, best effort, when a check fails).

Usage:
    python docs_page.py --base http://127.0.0.1:9000 --spec openapi.yaml --screenshot target/docs.png \
        [--chromium chromium]

Needs only the standard library plus pyyaml and websocket-client. Exit 0 on success, 1 when a check fails,
2 when the test cannot run (no chromium, unreadable spec, browser does not start).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import websocket  # websocket-client
import yaml

METHODS = ("get", "post", "put", "delete", "patch")
LOGIN_METHOD, LOGIN_PATH = "post", "/api/v1/login"
LOGIN_BODY = '{"user":"test.test","password":"demo-password"}'
RENDER_TIMEOUT = 30.0
RESPONSE_TIMEOUT = 30.0
STEP_TIMEOUT = 10.0


class Failure(Exception):
    """A check failed (exit 1)."""


class SetupError(Exception):
    """The test could not run (exit 2)."""


# --------------------------------------------------------------------------------------------------------------
# Chromium process


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_chromium(name):
    path = shutil.which(name) if os.sep not in name else (name if os.access(name, os.X_OK) else None)
    if not path:
        raise SetupError("chromium not found: %r (install Debian's `chromium` package or pass --chromium PATH)" % name)
    return path


def start_chromium(binary, tmp, port):
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    log = open(os.path.join(tmp, "chromium.log"), "wb")
    args = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--user-data-dir=" + profile,
        "--remote-debugging-port=%d" % port,
        "--window-size=1400,2400",
        "about:blank",
    ]
    # Own process group, so that chromium's helper processes (zygote, renderers, GPU) end with it.
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    return proc


def chromium_log_tail(tmp, lines=20):
    try:
        with open(os.path.join(tmp, "chromium.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop_chromium(proc):
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)  # the group that Popen(start_new_session=True) made: ours alone
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Helpers may outlive the main process by a moment; make sure the group is gone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def http_json(url, method="GET", timeout=5):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def wait_devtools(proc, port, tmp, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError("chromium exited (code %s) before DevTools came up:\n%s"
                             % (proc.returncode, chromium_log_tail(tmp)))
        try:
            return http_json("http://127.0.0.1:%d/json/version" % port, timeout=2)
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = e
            time.sleep(0.2)
    raise SetupError("chromium DevTools did not answer on port %d within %.0f s (%s):\n%s"
                     % (port, timeout, last, chromium_log_tail(tmp)))


def page_ws_url(port):
    targets = http_json("http://127.0.0.1:%d/json/list" % port)
    for t in targets:
        if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
            return t["webSocketDebuggerUrl"]
    t = http_json("http://127.0.0.1:%d/json/new?about:blank" % port, method="PUT")
    if not t.get("webSocketDebuggerUrl"):
        raise SetupError("no page target in /json/list and PUT /json/new gave none: %r" % (t,))
    return t["webSocketDebuggerUrl"]


# --------------------------------------------------------------------------------------------------------------
# DevTools protocol


class CDP:
    def __init__(self, ws_url):
        # No Origin header: chromium refuses DevTools websockets from origins not in --remote-allow-origins.
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True, enable_multithread=False)
        self.next_id = 0

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass

    def call(self, method, params=None, timeout=30.0):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("DevTools call %s got no answer within %.0f s" % (method, timeout))
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if msg.get("id") != mid:
                continue  # an event, or an answer to nothing we wait for
            if "error" in msg:
                raise Failure("DevTools call %s failed: %s" % (method, msg["error"]))
            return msg.get("result", {})

    def eval(self, expression, timeout=30.0):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            desc = (d.get("exception") or {}).get("description") or d.get("text")
            raise Failure("JavaScript error in the page: %s" % desc)
        return (r.get("result") or {}).get("value")


# Helpers defined in the page for each evaluation (evaluations don't share state, React may replace nodes).
JS_PRELUDE = r"""
const __ops = () => Array.from(document.querySelectorAll('.opblock')).map(op => {
  const m = op.querySelector('.opblock-summary-method');
  const p = op.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated');
  let path = null;
  if (p) path = p.hasAttribute('data-path') ? p.getAttribute('data-path')
                                            : p.textContent.replace(/\u200b/g, '').trim();
  return {el: op, method: m ? m.textContent.trim().toUpperCase() : null, path: path, id: op.id || ''};
});
const __find = (method, path) => {
  const hit = __ops().find(o => o.method === method && o.path === path);
  return hit ? hit.el : null;
};
"""


def js(body):
    return "(() => {" + JS_PRELUDE + body + "})()"


def poll(cdp, expression, timeout, interval=0.25):
    """Evaluate until it gives a truthy value; return it, or None at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cdp.eval(expression)
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# --------------------------------------------------------------------------------------------------------------
# The checks


def spec_routes(spec_path):
    try:
        with open(spec_path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise SetupError("cannot read spec %s: %s" % (spec_path, e))
    paths = (spec or {}).get("paths") or {}
    routes = [(str(m).upper(), p) for p, item in paths.items() if isinstance(item, dict)
              for m in item if str(m).lower() in METHODS]
    if not routes:
        raise SetupError("spec %s has no operations under paths" % spec_path)
    return routes


def page_state(cdp):
    """What the page shows instead of operations, for failure messages."""
    return cdp.eval(js(r"""
      const err = document.querySelector('.errors-wrapper, .loading-container, .info');
      return {url: location.href, title: document.title,
              swaggerUI: typeof window.SwaggerUIBundle,
              text: (err ? err.innerText : document.body ? document.body.innerText : '').slice(0, 800)};
    """))


def load_docs(cdp, url):
    cdp.call("Page.enable")
    r = cdp.call("Page.navigate", {"url": url})
    if r.get("errorText"):
        raise Failure("navigating to %s failed: %s" % (url, r["errorText"]))
    # Operations, or tag sections (collapsed ones, with docExpansion "none", hold no .opblock yet).
    rendered = poll(cdp, js("return document.querySelectorAll('.opblock, .opblock-tag-section').length;"),
                    RENDER_TIMEOUT)
    if rendered:
        # Open collapsed tag sections, then wait for the count of operations to settle.
        cdp.eval(js(r"""
          document.querySelectorAll('.opblock-tag-section:not(.is-open) .opblock-tag').forEach(t => t.click());
          return true;
        """))
        last, stable = -1, 0
        settle_until = time.monotonic() + STEP_TIMEOUT
        while stable < 3 and time.monotonic() < settle_until:
            n = cdp.eval(js("return document.querySelectorAll('.opblock').length;"))
            stable = stable + 1 if n == last and n > 0 else 0
            last = n
            time.sleep(0.2)
        if last > 0:
            return last
    raise Failure("Swagger UI rendered no operations (.opblock) at %s within %.0f s; page shows: %s"
                  % (url, RENDER_TIMEOUT, json.dumps(page_state(cdp))))


def check_routes(cdp, routes):
    shown = cdp.eval(js("return __ops().map(o => [o.method, o.path]);")) or []
    shown_set = {(m, p) for m, p in shown}
    missing = [r for r in routes if r not in shown_set]
    extra = sorted(shown_set - set(routes), key=lambda r: (r[1], r[0]))
    return shown, missing, extra


def try_login(cdp):
    m, p = LOGIN_METHOD.upper(), LOGIN_PATH
    find = "const op = __find(%s, %s); if (!op) return 'no-op';" % (json.dumps(m), json.dumps(p))

    # 1. Expand the operation: click the summary's toggle button (Swagger UI 5), else the summary itself.
    r = cdp.eval(js(find + r"""
      if (op.classList.contains('is-open')) return 'open';
      const s = op.querySelector('.opblock-summary-control') || op.querySelector('.opblock-summary');
      if (!s) return 'no-summary';
      s.click();
      return 'clicked';
    """))
    if r in ("no-op", "no-summary"):
        raise Failure("operation %s %s: %s" % (m, p, "not listed" if r == "no-op" else "has no .opblock-summary"))
    if not poll(cdp, js(find + "return !!op.querySelector('.try-out__btn');"), STEP_TIMEOUT):
        raise Failure("%s %s did not expand to show a 'Try it out' button (.try-out__btn)" % (m, p))

    # 2. "Try it out" (unless already on: then the button reads "Cancel").
    cdp.eval(js(find + r"""
      const b = op.querySelector('.try-out__btn');
      if (!b.classList.contains('cancel')) b.click();
      return true;
    """))
    if not poll(cdp, js(find + "return !!op.querySelector('textarea.body-param__text') && "
                                "!!op.querySelector('.execute');"), STEP_TIMEOUT):
        raise Failure("after 'Try it out', %s %s shows no request body textarea (.body-param__text) "
                      "or Execute button (.execute)" % (m, p))

    # 3. Set the body through React: native value setter + bubbling input/change events; check it stays set.
    set_body = js(find + r"""
      const el = op.querySelector('textarea.body-param__text');
      const v = %s;
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(el, v);
      el.dispatchEvent(new Event('input', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return true;
    """ % json.dumps(LOGIN_BODY))
    body_is = js(find + "const el = op.querySelector('textarea.body-param__text');"
                        "return el ? el.value : null;")
    for _ in range(5):
        cdp.eval(set_body)
        time.sleep(0.5)  # let React re-render; a controlled textarea it did not take would revert
        if cdp.eval(body_is) == LOGIN_BODY:
            break
    else:
        raise Failure("the request body textarea did not keep the value; it shows: %r" % cdp.eval(body_is))

    # 4. Execute, and wait for the live response's status.
    cdp.eval(js(find + "op.querySelector('.execute').click(); return true;"))
    result_js = js(find + r"""
      const row = op.querySelector('.live-responses-table .response');
      if (!row) {
        const v = op.querySelector('.validation-errors');
        return v ? {validation: v.innerText} : null;
      }
      const st = row.querySelector('.response-col_status');
      const desc = row.querySelector('.response-col_description');
      const code = !desc ? null : (desc.querySelector('.highlight-code .microlight')
                                   || desc.querySelector('.highlight-code') || desc.querySelector('pre'));
      const url = op.querySelector('.request-url pre') || op.querySelector('.request-url');
      return {status: st ? st.textContent.trim() : '',
              body: code ? code.textContent : '',
              details: desc ? desc.innerText.slice(0, 1500) : '',
              url: url ? url.textContent.trim() : ''};
    """)
    res = poll(cdp, result_js, RESPONSE_TIMEOUT)
    if not res:
        raise Failure("no live response (.live-responses-table .response) for %s %s within %.0f s after Execute"
                      % (m, p, RESPONSE_TIMEOUT))
    if "validation" in res:
        raise Failure("Swagger UI refused to send the request: %s" % res["validation"])
    status = res["status"].split()[0] if res["status"].split() else ""
    if status != "200" or '"authToken"' not in res["body"]:
        raise Failure("try it out %s %s: expected status 200 and a body with \"authToken\"; shown: status %r, "
                      "request URL %r, body %r, details:\n%s"
                      % (m, p, res["status"], res["url"], res["body"], res["details"]))
    return status, res


def screenshot(cdp, out):
    metrics = cdp.call("Page.getLayoutMetrics")
    size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
    view = metrics.get("cssLayoutViewport") or metrics.get("layoutViewport") or {}
    w = max(int(round(size.get("width", 0))), int(view.get("clientWidth", 0)), 1)
    h = min(max(int(round(size.get("height", 0))), int(view.get("clientHeight", 0)), 1), 32000)
    r = cdp.call("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
    }, timeout=60)
    data = base64.b64decode(r["data"])
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    return w, h, len(data)


# --------------------------------------------------------------------------------------------------------------


def run(args):
    routes = spec_routes(args.spec)
    binary = find_chromium(args.chromium)
    url = args.base.rstrip("/") + "/docs"

    tmp = tempfile.mkdtemp(prefix="docs-page-chromium-")
    proc = cdp = None
    try:
        port = free_port()
        proc = start_chromium(binary, tmp, port)
        version = wait_devtools(proc, port, tmp)
        cdp = CDP(page_ws_url(port))
        print("browser: %s (DevTools port %d)" % (version.get("Browser", "?"), port))

        failures = []
        shot_done = False
        try:
            n = load_docs(cdp, url)
            ui_version = cdp.eval("(window.versions && window.versions.swaggerUI && "
                                  "window.versions.swaggerUI.version) || ''")
            print("docs: %s, Swagger UI %s, %d operations rendered" % (url, ui_version or "(version unknown)", n))

            shown, missing, extra = check_routes(cdp, routes)
            print("routes: %d/%d of the spec listed" % (len(routes) - len(missing), len(routes)))
            for mth, pth in sorted(routes, key=lambda r: (r[1], METHODS.index(r[0].lower()))):
                print("  %-4s %-7s %s" % ("ok" if (mth, pth) not in missing else "MISS", mth, pth))
            for mth, pth in extra:
                print("  note: shown but not in the spec: %s %s" % (mth, pth))
            if missing:
                failures.append("%d route(s) of the spec not listed on the docs page: %s"
                                % (len(missing), ", ".join("%s %s" % r for r in missing)))

            try:
                status, res = try_login(cdp)
                print("try it out: %s %s -> %s, body contains \"authToken\" (request URL %s)"
                      % (LOGIN_METHOD.upper(), LOGIN_PATH, status, res["url"] or "?"))
            except Failure as e:
                failures.append(str(e))
                print("try it out: %s %s FAILED" % (LOGIN_METHOD.upper(), LOGIN_PATH))
        except Failure as e:
            failures.append(str(e))
        finally:
            try:
                w, h, nbytes = screenshot(cdp, args.screenshot)
                shot_done = True
                print("screenshot: %s (%dx%d, %d bytes)%s"
                      % (args.screenshot, w, h, nbytes, " [state at failure]" if failures else ""))
            except Exception as e:  # never hide the real failure behind a screenshot problem
                print("screenshot: not written (%s)" % e)
        if not shot_done:
            failures.append("screenshot %s was not written" % args.screenshot)
        if failures:
            raise Failure("\n".join("- " + f for f in failures))
    except (websocket.WebSocketException, ConnectionError) as e:
        raise Failure("lost the DevTools connection to chromium: %s\n%s" % (e, chromium_log_tail(tmp)))
    finally:
        if cdp is not None:
            cdp.close()
        stop_chromium(proc)
        for _ in range(10):
            shutil.rmtree(tmp, ignore_errors=True)
            if not os.path.exists(tmp):
                break
            time.sleep(0.3)


def main():
    ap = argparse.ArgumentParser(description="Headless-browser test of the Swagger UI page at <base>/docs.")
    ap.add_argument("--base", required=True, help="server base URL, e.g. http://127.0.0.1:9000")
    ap.add_argument("--spec", required=True, help="the OpenAPI YAML whose routes must all be listed")
    ap.add_argument("--screenshot", required=True, help="PNG file to write (its folder is created)")
    ap.add_argument("--chromium", default="chromium", help="chromium binary (name on PATH or a path)")
    args = ap.parse_args()
    try:
        run(args)
    except SetupError as e:
        print("docs page test: cannot run: %s" % e, file=sys.stderr)
        return 2
    except Failure as e:
        print("docs page test FAILED:\n%s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("docs page test: interrupted", file=sys.stderr)
        return 130
    print("docs page test: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
