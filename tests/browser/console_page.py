#!/usr/bin/env python3
"""Headless-browser test of the device-management console served at <base>/console (docs/console.md).

Starts Debian's chromium headless, drives the page over the Chrome DevTools Protocol (websocket-client) as a
person would (mouse clicks at the element's place, typed text, Enter and Escape keys) and checks what the page
SHOWS after each step, against the demo data of a local run:

 1. /console answers one document with the strict Content-Security-Policy (two hashes, nothing inline else);
 2. the sign-in page; a wrong password and a blocked name (failed logins through the API first) show their sentences;
 3. rocket.agent (a plain demo user) signs in: My devices lists its sessions, this device marked;
 4. ending another of its sessions (one the test opened) removes the row, and that token is dead;
 5. a 503 with Retry-After and a session flagged for impossible travel show as sentences (the page's fetch
    answers those once: the local run cannot produce them);
 6. the new-login email preference, turned off, is still off after a reload (and on again);
 7. on a phone-sized screen the table is stacked cards;
 8. "Sign out everywhere else" leaves this device alone, and the page keeps working; sign-out shows the sign-in
    page, and the token is dead;
 9. admin signs in with a TOTP code (computed here from the demo secret: RFC 6238, hmac/sha1, 30 s steps);
10. All devices asks for step-up 2FA; a wrong code shows its sentence, the next code opens the list;
11. sorting by a column (the order, aria-sort, the busy state), filtering (every row matches), paging from the first
    to the last page ("Page N of N", every session once), each page the same as list.all's own answer;
12. a session's detail (Escape closes it, focus returns), ending a session from it (ended, by you), opened by id;
13. the audit log with a wrong, then the demo, API key, and its next page;
14. a session ended elsewhere sends the page back to sign-in with a sentence;
15. testroxie, an admin without a second factor, passes the step-up with the password.

On every view it injects axe-core (--axe, from scripts/lib.sh's ensure_axe_core) and fails on any violation of
impact "serious" or "critical"; it also fails on any script error or Content-Security-Policy violation the page
reports. Screenshots (PNG) go to --screenshots.

Usage:
    python console_page.py --base http://127.0.0.1:9000 --screenshots docs/console \
        [--axe .tools/axe-core/node_modules/axe-core/axe.min.js] [--chromium chromium]

Standard library plus websocket-client. Exit 0 on success, 1 when a check fails, 2 when the test cannot run.
"""

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import websocket  # websocket-client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_AXE = os.path.join(ROOT, ".tools", "axe-core", "node_modules", "axe-core", "axe.min.js")

PASSWORD = "demo-password"
# A plain demo user whose seeded session no request example of openapi.yaml or the reference names, so that
# "Sign out everywhere else" changes nothing the schemathesis runs after this test rely on.
USER = "rocket.agent"
UNKNOWN_NAME = "console-test-nobody"  # matches no user: failed logins for it block only it
ADMIN = "admin"
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # cli/src/demo.rs, DEMO_ADMIN_TOTP_SECRET
DEMO_API_KEY = "sk_demo_local_only_Wq3vJ8rT5yN2kP7mZ4xB9cD6fG1hL0sA"  # docs/admin-tool.md
# Sessions this test opens itself (and ends), so the seeded ones stay as they are for later runs.
UA_EXTRA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0"
UA_OTHERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "RC Mobile; ios 16.4; v4.39.0 (2024)",
]
UA_API = "console-page-test/1.0"
# The demo session with a location (cli/src/demo.rs) and how the page writes it: city, region, country.
LOCATED_SESSION = "QoYYFw2t9oKks2niG"
LOCATED_PLACE = "Los Angeles, North America, United States of America"
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
TIMEOUT = 20.0


class Failure(Exception):
    """A check failed (exit 1)."""


class SetupError(Exception):
    """The test could not run (exit 2)."""


# --------------------------------------------------------------------------------------------------------------
# Chromium process (as tests/browser/docs_page.py)


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
        "--window-size=1280,900",
        "--lang=en-US",
        "about:blank",
    ]
    # Own process group, so that chromium's helper processes end with it.
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
            os.killpg(proc.pid, sig)  # the group Popen(start_new_session=True) made: ours alone
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
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
    for t in http_json("http://127.0.0.1:%d/json/list" % port):
        if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
            return t["webSocketDebuggerUrl"]
    t = http_json("http://127.0.0.1:%d/json/new?about:blank" % port, method="PUT")
    if not t.get("webSocketDebuggerUrl"):
        raise SetupError("no page target in /json/list and PUT /json/new gave none: %r" % (t,))
    return t["webSocketDebuggerUrl"]


# --------------------------------------------------------------------------------------------------------------
# DevTools protocol, keeping the events (script errors, CSP violations)


class CDP:
    def __init__(self, ws_url):
        # No Origin header: chromium refuses DevTools websockets from origins not in --remote-allow-origins.
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True, enable_multithread=False)
        self.next_id = 0
        self.events = []

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
            if "id" not in msg:
                self.events.append(msg)
                continue
            if msg["id"] != mid:
                continue
            if "error" in msg:
                raise Failure("DevTools call %s failed: %s" % (method, msg["error"]))
            return msg.get("result", {})

    def eval(self, expression, timeout=30.0):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            desc = (d.get("exception") or {}).get("description") or d.get("text")
            raise Failure("JavaScript error evaluating a check: %s" % desc)
        return (r.get("result") or {}).get("value")


JS_PRELUDE = r"""
const __q = s => document.querySelector(s);
const __qa = s => Array.from(document.querySelectorAll(s));
const __vis = e => !!e && !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
                   && getComputedStyle(e).visibility !== 'hidden';
const __t = s => { const e = __q(s); return e ? e.innerText.trim() : null; };
"""


def js(body):
    return "(() => {" + JS_PRELUDE + body + "})()"


def q(s):
    return json.dumps(s)


# --------------------------------------------------------------------------------------------------------------
# The page, driven as a person drives it


class Page:
    def __init__(self, cdp, base, axe_source, shots):
        self.cdp = cdp
        self.base = base
        self.axe_source = axe_source
        self.shots = shots
        self.shot_list = []
        self.axe_runs = []

    # Reading the page

    def value(self, body):
        return self.cdp.eval(js(body))

    def wait(self, body, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            v = self.value(body)
            if v:
                return v
            if time.monotonic() >= deadline:
                raise Failure("%s: not shown within %.0f s; the page shows: %s" % (what, timeout, self.state()))
            time.sleep(0.15)

    def text(self, selector):
        return self.value("return __t(%s);" % q(selector))

    def visible(self, selector):
        return self.value("return __vis(__q(%s));" % q(selector))

    def wait_text(self, selector, needle, what, timeout=TIMEOUT):
        return self.wait("const e = __q(%s); return __vis(e) && e.innerText.includes(%s) ? e.innerText.trim() : null;"
                         % (q(selector), q(needle)), what, timeout)

    def wait_idle(self):
        self.wait("return __q('#main').getAttribute('aria-busy') !== 'true' && __q('#busy').hidden;", "the page idle")

    def state(self):
        s = self.value(r"""
          const view = __vis(__q('#view-signin')) ? 'sign-in' : __vis(__q('#view-app')) ? 'app' : 'none';
          const open = __qa('dialog[open]').map(d => d.id);
          return {view, dialogs: open, status: __t('#status'), alert: __t('#alert'),
                  text: (document.body ? document.body.innerText : '').replace(/\s+/g, ' ').slice(0, 600)};
        """)
        return json.dumps(s)

    # Acting

    def click_ready(self, selector, what=None):
        """Clicks a control once it is available again: the page keeps a control aria-disabled until its action
        (a list and what follows it) has ended and ignores a click meanwhile, as a person would wait for it."""
        self.wait("const e = __q(%s); return !!e && e.getAttribute('aria-disabled') !== 'true';" % q(selector),
                  "%s available" % (what or selector))
        self.click(selector, what)

    def click(self, selector, what=None):
        r = self.value(r"""
          const e = __q(%s);
          if (!e) return {err: 'no element'};
          e.scrollIntoView({block: 'center', inline: 'center'});
          const b = e.getBoundingClientRect();
          if (!b.width || !b.height) return {err: 'not visible'};
          const x = b.left + b.width / 2, y = b.top + b.height / 2;
          const hit = document.elementFromPoint(x, y);
          if (!hit || !(hit === e || e.contains(hit)))
            return {err: 'covered by ' + (hit ? hit.outerHTML.slice(0, 120) : 'nothing')};
          return {x, y};
        """ % q(selector))
        if not r or r.get("err"):
            raise Failure("cannot click %s (%s): %s; the page shows: %s"
                          % (what or selector, selector, (r or {}).get("err"), self.state()))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.cdp.call("Input.dispatchMouseEvent", {"type": kind, "x": r["x"], "y": r["y"], "button": "left",
                                                       "buttons": 1 if kind == "mousePressed" else 0,
                                                       "clickCount": 0 if kind == "mouseMoved" else 1})

    def type_into(self, selector, text):
        ok = self.value("const e = __q(%s); if (!e) return false; e.focus(); e.value = ''; "
                        "e.dispatchEvent(new Event('input', {bubbles: true})); return document.activeElement === e;"
                        % q(selector))
        if not ok:
            raise Failure("cannot type into %s; the page shows: %s" % (selector, self.state()))
        if text:
            self.cdp.call("Input.insertText", {"text": text})

    def press(self, key):
        keys = {"Enter": (13, "\r"), "Escape": (27, None), "Tab": (9, None)}
        code, text = keys[key]
        down = {"type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        if text:
            down.update({"text": text, "unmodifiedText": text})
        self.cdp.call("Input.dispatchKeyEvent", down)
        self.cdp.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": key,
                                                 "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code})

    def choose(self, selector, value):
        self.value("const e = __q(%s); e.focus(); e.value = %s; e.dispatchEvent(new Event('change', {bubbles: true}));"
                   " return true;" % (q(selector), q(value)))

    def navigate(self, url):
        self.cdp.call("Page.enable")
        r = self.cdp.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise Failure("navigating to %s failed: %s" % (url, r["errorText"]))
        self.wait("return document.readyState === 'complete' && "
                  "(__vis(__q('#view-signin')) || __vis(__q('#view-app')));", "the console after loading " + url)

    def reload(self):
        self.value("window.__before_reload = true; return true;")
        self.cdp.call("Page.reload", {"ignoreCache": True})
        self.wait("return !window.__before_reload && document.readyState === 'complete' && "
                  "(__vis(__q('#view-signin')) || __vis(__q('#view-app')));", "the console after a reload")

    def viewport(self, metrics):
        self.cdp.call("Emulation.setDeviceMetricsOverride", metrics)

    # Checks every view gets

    def problems(self):
        """Script errors and CSP violations the page reported since the last call."""
        found = []
        for ev in self.cdp.events:
            m, p = ev.get("method"), ev.get("params") or {}
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails") or {}
                found.append("script error: %s" % ((d.get("exception") or {}).get("description") or d.get("text")))
            elif m == "Log.entryAdded":
                e = p.get("entry") or {}
                text = e.get("text") or ""
                if "Content Security Policy" in text or "Content-Security-Policy" in text:
                    found.append("CSP violation: %s" % text)
                elif e.get("level") == "error" and e.get("source") not in ("network",):
                    found.append("console error (%s): %s" % (e.get("source"), text))
            elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
                args = [a.get("value") or a.get("description") for a in p.get("args") or []]
                found.append("console.error: %s" % " ".join(str(a) for a in args))
        self.cdp.events = []
        return found

    def axe(self, view):
        """axe-core on the page as it is; fails on a serious or critical violation."""
        self.wait_idle()
        if not self.value("return typeof window.axe === 'object';"):
            r = self.cdp.call("Runtime.evaluate", {"expression": self.axe_source, "returnByValue": True}, timeout=60)
            if "exceptionDetails" in r:
                raise Failure("axe-core did not load in the page: %s" % r["exceptionDetails"].get("text"))
        res = self.cdp.eval(r"""
          axe.run(document, {resultTypes: ['violations']}).then(r => ({
            version: axe.version,
            violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\n').slice(0, 2).join(' '))}))
          }))
        """, timeout=120)
        bad = [v for v in res["violations"] if v["impact"] in ("serious", "critical")]
        minor = [v for v in res["violations"] if v["impact"] not in ("serious", "critical")]
        self.axe_runs.append((view, len(bad), len(minor)))
        note = ""
        if minor:
            note = "; %d minor or moderate: %s" % (len(minor), ", ".join("%s (%s)" % (v["id"], v["impact"]) for v in minor))
        if bad:
            raise Failure("axe-core %s on %s: %d serious or critical violation(s):\n%s" % (
                res["version"], view, len(bad),
                "\n".join("  %s [%s] %s\n    %s" % (v["id"], v["impact"], v["help"], "\n    ".join(v["nodes"]))
                          for v in bad)))
        return "axe-core %s: no serious or critical violation%s" % (res["version"], note)

    def check_clean(self, view):
        found = self.problems()
        if found:
            raise Failure("the page reported on %s:\n  %s" % (view, "\n  ".join(found)))

    def screenshot(self, name):
        self.wait_idle()
        time.sleep(0.3)  # let transitions and the focus ring settle
        metrics = self.cdp.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
        view = metrics.get("cssLayoutViewport") or metrics.get("layoutViewport") or {}
        w = max(int(view.get("clientWidth", 0)), 1)
        h = min(max(int(round(size.get("height", 0))), int(view.get("clientHeight", 0)), 1), 8000)
        r = self.cdp.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
        }, timeout=60)
        data = base64.b64decode(r["data"])
        os.makedirs(self.shots, exist_ok=True)
        out = os.path.join(self.shots, name)
        with open(out, "wb") as f:
            f.write(data)
        self.shot_list.append(out)
        return "%s (%dx%d)" % (out, w, h)


# --------------------------------------------------------------------------------------------------------------
# The API, beside the page (to open and check sessions the test needs)


def api(base, method, path, headers=None, body=None, ua=UA_API):
    data = None
    hdrs = {"User-Agent": ua, "Accept": "application/json"}
    hdrs.update(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw, status, rh = r.read(), r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, rh = e.read(), e.code, dict(e.headers)
    except (urllib.error.URLError, OSError) as e:
        raise SetupError("the API at %s does not answer: %s" % (base, e))
    try:
        parsed = json.loads(raw.decode()) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return status, parsed, rh


def api_login(base, user, ua):
    status, b, _ = api(base, "POST", "/api/v1/login", body={"user": user, "password": PASSWORD}, ua=ua)
    if status != 200:
        raise SetupError("login of %s through the API: %s %s" % (user, status, b))
    return b["data"]["userId"], b["data"]["authToken"]


def auth_headers(user_id, token):
    return {"X-User-Id": user_id, "X-Auth-Token": token}


def totp(secret, step):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


class Totp:
    """Codes for the demo admin: each 30 s step is accepted once (±1 step), so never reuse one."""

    def __init__(self, secret):
        self.secret = secret
        self.used = None

    def now_step(self):
        return int(time.time()) // 30

    def fresh(self):
        step = self.now_step() if self.used is None else max(self.now_step(), self.used + 1)
        while step > self.now_step() + 1:  # only the next step is accepted early
            time.sleep(1)
        self.used = step
        return totp(self.secret, step)

    def wrong(self):
        near = {totp(self.secret, self.now_step() + d) for d in (-1, 0, 1, 2)}
        return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


# --------------------------------------------------------------------------------------------------------------
# The steps


class Steps:
    def __init__(self, page, base):
        self.page = page
        self.base = base
        self.n = 0

    def ok(self, name, shown):
        self.n += 1
        print("ok   %2d %s: %s" % (self.n, name, shown), flush=True)


def csp_of(base):
    req = urllib.request.Request(base + "/console", headers={"User-Agent": UA_API})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Security-Policy") or "", r.headers.get("Content-Type") or ""
    except urllib.error.HTTPError as e:
        return e.code, "", ""
    except (urllib.error.URLError, OSError) as e:
        raise SetupError("%s/console does not answer: %s" % (base, e))


def step_document(s):
    status, csp, ctype = csp_of(s.base)
    if status != 200:
        raise Failure("GET /console answered %s (is the console route served here?)" % status)
    want = ["default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'",
            "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"]
    missing = [w for w in want if w not in csp]
    if missing or "unsafe" in csp or not ctype.startswith("text/html"):
        raise Failure("GET /console: Content-Type %r, Content-Security-Policy %r lacks %s or allows unsafe-*"
                      % (ctype, csp, missing))
    s.ok("document", "200 text/html with Content-Security-Policy: %s" % csp.split(";")[0] + "; script-src and "
         "style-src by sha256 only")


def step_signin_page(s):
    p = s.page
    p.viewport(DESKTOP)
    p.navigate(s.base + "/console")
    p.wait_text("#signin-title", "Sign in", "the sign-in heading")
    inline = p.value(r"""
      return {scripts: __qa('script').length, styles: __qa('style').length,
              styleAttrs: __qa('[style]').length,
              handlers: __qa('*').filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
              labels: __qa('label[for]').filter(l => __vis(l)).map(l => l.innerText.trim()),
              focus: document.activeElement && document.activeElement.id};
    """)
    if inline["scripts"] != 1 or inline["styles"] != 1 or inline["styleAttrs"] or inline["handlers"]:
        raise Failure("the document should hold one <script>, one <style>, no style attribute and no inline "
                      "handler; it holds %s" % json.dumps(inline))
    if inline["labels"] != ["Username or email", "Password"]:
        raise Failure("sign-in labels: %r" % inline["labels"])
    p.check_clean("the sign-in page")
    a = p.axe("the sign-in page")
    shot = p.screenshot("sign-in.png")
    s.ok("sign-in page", "labels %s, focus on #%s, one script and one style element; %s; screenshot %s"
         % (inline["labels"], inline["focus"], a, shot))


def step_wrong_password(s):
    p = s.page
    p.type_into("#signin-user", USER)
    p.type_into("#signin-password", "not-the-password")
    p.press("Enter")  # Enter submits the form
    msg = p.wait_text("#alert", "The username, email or password is not right.", "the wrong-password sentence")
    if p.visible("#code-form"):
        raise Failure("a wrong password showed the code step")
    p.check_clean("a wrong password")
    s.ok("wrong password", "alert %r" % msg)


def step_blocked(s):
    p = s.page
    # Failed logins for a name that matches no user, until the API blocks it (LOGIN_FAILURES_PER_USER, 10 by
    # default); the next successful login clears the address's count again.
    tries = 0
    while True:
        status, b, _ = api(s.base, "POST", "/api/v1/login", body={"user": UNKNOWN_NAME, "password": "wrong"})
        if (b or {}).get("error") == "error-login-blocked-for-user":
            break
        tries += 1
        if status != 401 or tries > 60:
            raise SetupError("failed logins for %s never blocked it: %s %s" % (UNKNOWN_NAME, status, b))
    p.type_into("#signin-user", UNKNOWN_NAME)
    p.type_into("#signin-password", "wrong")
    p.press("Enter")
    msg = p.wait_text("#alert", "Too many failed sign-ins to this account", "the blocked sentence")
    p.check_clean("a blocked sign-in")
    s.ok("blocked sign-in", "after %d failed logins for an unknown name: %r" % (tries, msg))


def step_service_busy(s):
    p = s.page
    # The API answers 503 with Retry-After when DynamoDB throttles; the local run cannot be made to, so the
    # page's fetch answers the next list call so, once.
    p.value(r"""
      const real = window.fetch;
      window.fetch = function (url, init) {
        if (String(url).startsWith('/api/v1/sessions/list?')) {
          window.fetch = real;
          return Promise.resolve(new Response(JSON.stringify({success: false,
            error: 'Service temporarily unavailable, try again [error-service-unavailable]'}),
            {status: 503, headers: {'Content-Type': 'application/json', 'Retry-After': '3'}}));
        }
        return real(url, init);
      };
      return true;
    """)
    rows = p.value("return __qa('#mine-rows tr').length;")
    p.click_ready("#mine-refresh", "Refresh")
    msg = p.wait_text("#alert", "The service is busy; try again in 3 seconds.", "the busy sentence")
    p.wait_idle()
    left = p.value("return {rows: __qa('#mine-rows tr').length, "
                   "disabled: __q('#mine-refresh').getAttribute('aria-disabled')};")
    if left["rows"] != rows or left["disabled"]:
        raise Failure("after a 503 the rows should stay (%d) and Refresh work again: %s" % (rows, left))
    p.click_ready("#mine-refresh", "Refresh")
    p.wait("return __q('#main').getAttribute('aria-busy') === 'false' && __qa('#mine-rows tr').length === %d;" % rows,
           "the list again")
    p.check_clean("a 503")
    s.ok("service busy", "a 503 with Retry-After: 3 shows %r; the rows stay, Refresh works again" % msg)


def step_risk(s):
    p = s.page
    # No local sign-in can be flagged for impossible travel (loopback addresses have no place), so the page's
    # fetch adds the documented `risk` (docs/risk.md) to one row of the next real list answer, once.
    p.value(r"""
      const real = window.fetch;
      window.fetch = function (url, init) {
        if (!String(url).startsWith('/api/v1/sessions/list?')) return real(url, init);
        window.fetch = real;
        return real(url, init).then(r => r.json()).then(b => {
          const other = b.sessions.find(x => !x.current);
          other.risk = {reason: 'impossible_travel', distanceKm: 16994, speedKmh: 5665, previousSessionId: 'x'};
          window.__flagged = other.sessionId;
          return new Response(JSON.stringify(b), {status: 200, headers: {'Content-Type': 'application/json'}});
        });
      };
      return true;
    """)
    p.click_ready("#mine-refresh", "Refresh")
    shown = p.wait("const r = __q('#mine-rows tr[data-session-id=\"' + window.__flagged + '\"] td[data-label=Risk]');"
                   "return r && r.innerText.includes('Impossible travel') ? r.innerText.trim() : null;",
                   "the flagged row's risk")
    if "16,994 km" not in shown or "5,665 km/h" not in shown:
        raise Failure("the risk cell should give the distance and speed; it shows %r" % shown)
    others = p.value("return __qa('#mine-rows td[data-label=Risk]').map(c => c.innerText.trim())"
                     ".filter(t => t !== 'None').length;")
    if others != 1:
        raise Failure("only the flagged row should show a risk; %d do" % others)
    p.click_ready("#mine-refresh", "Refresh")
    p.wait("return __q('#main').getAttribute('aria-busy') === 'false' && "
           "__qa('#mine-rows td[data-label=Risk]').every(c => c.innerText.trim() === 'None');", "the list again")
    p.check_clean("a flagged session")
    s.ok("risk flag", "a session with risk shows %r in its Risk cell, the others None" % shown)


def step_user_signs_in(s, ctx):
    p = s.page
    # Sessions of the user from other devices, opened here: one for the page to end, the others for
    # "Sign out everywhere else".
    ctx["extra_user"], ctx["extra_token"] = api_login(s.base, USER, UA_EXTRA)
    status, b, _ = api(s.base, "GET", "/api/v1/sessions/list?count=100",
                       auth_headers(ctx["extra_user"], ctx["extra_token"]), ua=UA_EXTRA)
    ctx["extra_id"] = next(x["sessionId"] for x in b["sessions"] if x.get("current"))
    ctx["others"] = [api_login(s.base, USER, ua) for ua in UA_OTHERS]

    p.type_into("#signin-user", USER)
    p.type_into("#signin-password", PASSWORD)
    p.press("Enter")
    p.wait("return __vis(__q('#panel-mine')) && __qa('#mine-rows tr').length > 0;", "My devices with rows")
    p.wait_idle()
    shown = p.value(r"""
      const rows = __qa('#mine-rows tr');
      const marked = rows.filter(r => r.querySelector('.badge') && r.querySelector('.badge').innerText.includes('This device'));
      return {rows: rows.length, ids: rows.map(r => r.dataset.sessionId),
              marked: marked.map(r => ({id: r.dataset.sessionId, cls: r.className,
                                         ip: r.querySelector('td[data-label="IP address"]').innerText.trim(),
                                         at: r.querySelector('td[data-label="Signed in"] time').getAttribute('datetime'),
                                         action: r.querySelector('.row-actions button').innerText.trim()})),
              extra: (rows.find(r => r.dataset.sessionId === %s) || {innerText: ''}).innerText.replace(/\s+/g, ' '),
              heading: __t('#mine-title'), who: __t('#who-name'), caption: __t('#mine-caption'),
              noGeo: __q('#mine-table').classList.contains('no-geo'),
              located: rows.filter(r => r.querySelector('td[data-label=Location]').innerText.trim() !== 'Unknown').length,
              tabs: __qa('[role=tab]').filter(__vis).map(t => t.innerText.trim())};
    """ % q(ctx["extra_id"]))
    token = p.value("return JSON.parse(sessionStorage.getItem('sessionsConsole.auth')).authToken;")
    user_id = p.value("return JSON.parse(sessionStorage.getItem('sessionsConsole.auth')).userId;")
    ctx["user_id"], ctx["user_token"] = user_id, token
    status, b, _ = api(s.base, "GET", "/api/v1/sessions/list?count=100", auth_headers(user_id, token))
    ctx["user_session"] = next(x["sessionId"] for x in b["sessions"] if x.get("current"))
    if shown["heading"] != "My devices" or shown["rows"] != b["total"]:
        raise Failure("My devices shows %d rows under %r; the API lists %d" % (shown["rows"], shown["heading"], b["total"]))
    if len(shown["marked"]) != 1 or shown["marked"][0]["id"] != ctx["user_session"] or "current" not in shown["marked"][0]["cls"]:
        raise Failure("exactly the session of this tab (%s) should be marked 'This device'; marked: %s"
                      % (ctx["user_session"], shown["marked"]))
    m = shown["marked"][0]
    if m["action"] != "Sign out of this device" and not m["action"].startswith("Sign out"):
        raise Failure("this device's action should be Sign out, is %r" % m["action"])
    if "Firefox" not in shown["extra"] or "Windows" not in shown["extra"]:
        raise Failure("the other device's row should show Firefox on Windows; it shows %r" % shown["extra"])
    if shown["tabs"] != ["My devices"]:
        raise Failure("a plain user should see only the My devices tab; tabs shown: %s" % shown["tabs"])
    # None of this user's sessions was located (loopback and private addresses): the column is hidden.
    located = [x for x in b["sessions"] if x.get("location")]
    if located or not shown["noGeo"] or shown["located"]:
        raise Failure("with no located session the Location column should be hidden: API %s, page %s"
                      % (located, {k: shown[k] for k in ("noGeo", "located")}))
    p.check_clean("My devices")
    a = p.axe("My devices")
    shot = p.screenshot("my-devices.png")
    s.ok("My devices", "%d sessions for %s, 'This device' on %s (IP %s, signed in %s), other device %r, tabs %s; %s; "
         "screenshot %s" % (shown["rows"], shown["who"], m["id"], m["ip"], m["at"], shown["extra"][:60],
                            shown["tabs"], a, shot))


def step_end_other(s, ctx):
    p = s.page
    sid = ctx["extra_id"]
    before = p.value("return __qa('#mine-rows tr').length;")
    p.click("#mine-rows tr[data-session-id=%s] button.end" % q(sid), "End on the other device's row")
    p.wait("return __q('#confirm').open;", "the confirmation dialog")
    text = p.text("#confirm-text")
    if "Firefox" not in text:
        raise Failure("the confirmation should name the device; it says %r" % text)
    p.click("#confirm-yes", "End session")
    status = p.wait_text("#status", "Session ended", "the 'Session ended' message")
    p.wait("return !__q('#mine-rows tr[data-session-id=%s]');" % q(sid), "the ended row gone")
    after = p.value("return __qa('#mine-rows tr').length;")
    code, _, _ = api(s.base, "GET", "/api/v1/me", auth_headers(ctx["extra_user"], ctx["extra_token"]), ua=UA_EXTRA)
    if after != before - 1 or code != 401:
        raise Failure("after ending: %d rows (before %d); the ended token answers %s (want 401)" % (after, before, code))
    p.check_clean("ending a session")
    s.ok("end another session", "confirm said %r; status %r; %d rows left; its token now gets 401"
         % (text[:70], status, after))


def pref_state(p):
    return p.value("const b = __q('#pref-email'); return {checked: b.checked, "
                   "label: __t('label[for=pref-email]')};")


def step_preference(s, ctx):
    p = s.page
    hdrs = auth_headers(ctx["user_id"], ctx["user_token"])
    start = pref_state(p)
    if not start["checked"]:
        raise Failure("%s never saved a preference (demo data): the box should show the default, on" % USER)
    p.click("#pref-email", start["label"])
    msg = p.wait_text("#status", "New-login emails are off", "the preference saved off")
    p.reload()
    p.wait("return __qa('#mine-rows tr').length > 0;", "My devices after the reload")
    p.wait_idle()
    after = pref_state(p)
    _, b, _ = api(s.base, "GET", "/api/v1/users.getPreferences", hdrs)
    if after["checked"] or (b or {}).get("preferences", {}).get("receiveLoginDetectionEmail") is not False:
        raise Failure("after a reload the box is %s and the API says %s (want off and false)" % (after, b))
    if not p.value("return !!__q('#mine-rows tr.current');"):
        raise Failure("after a reload the tab is no longer signed in (the token is kept for the tab)")
    p.click("#pref-email", "the preference again")
    p.wait_text("#status", "New-login emails are on", "the preference saved on again")
    _, b, _ = api(s.base, "GET", "/api/v1/users.getPreferences", hdrs)
    if (b or {}).get("preferences", {}).get("receiveLoginDetectionEmail") is not True:
        raise Failure("turned on again, the API says %s" % b)
    p.check_clean("the preference")
    s.ok("new-login email preference", "%r off: %r; after a reload still off (still signed in); on again"
         % (start["label"], msg))


def step_phone(s):
    p = s.page
    p.viewport(PHONE)
    time.sleep(0.3)
    shown = p.value(r"""
      const tr = __q('#mine-rows tr'), td = tr.querySelector('td');
      return {tr: getComputedStyle(tr).display, td: getComputedStyle(td).display,
              label: getComputedStyle(td, '::before').content, head: __vis(__q('#mine-table thead th')) ,
              width: document.documentElement.scrollWidth, view: window.innerWidth};
    """)
    if shown["tr"] != "block" or shown["label"] != '"Device"' or shown["width"] > shown["view"] + 1:
        raise Failure("on a %dpx screen rows should be cards (display block, each cell labelled) without sideways "
                      "scrolling; got %s" % (PHONE["width"], shown))
    a = p.axe("My devices on a phone")
    shot = p.screenshot("my-devices-phone.png")
    p.cdp.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    dark = p.value("return getComputedStyle(document.body).backgroundColor;")
    if dark == "rgb(255, 255, 255)":
        raise Failure("the dark colour scheme left the page white")
    p.axe("My devices on a phone, dark scheme")
    p.cdp.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    p.viewport(DESKTOP)
    s.ok("phone layout", "rows are cards (tr display %s, cells labelled %s), page %dpx wide on a %dpx screen; %s, "
         "in the dark scheme too (background %s); screenshot %s"
         % (shown["tr"], shown["label"], shown["width"], shown["view"], a, dark, shot))


def step_others_out(s, ctx):
    p = s.page
    before = p.value("return __qa('#mine-rows tr').length;")
    p.click("#others-out", "Sign out everywhere else")
    p.wait("return __q('#confirm').open;", "the confirmation dialog")
    p.click("#confirm-yes", "Sign out the others")
    msg = p.wait_text("#status", "Every other device is signed out.", "the signed-out-elsewhere message")
    p.wait_idle()
    rows = p.value("return __qa('#mine-rows tr').map(r => ({id: r.dataset.sessionId, current: r.classList.contains('current')}));")
    if len(rows) != 1 or not rows[0]["current"] or rows[0]["id"] != ctx["user_session"]:
        raise Failure("after signing out everywhere else only this device should be listed; rows: %s" % rows)
    dead = [api(s.base, "GET", "/api/v1/me", auth_headers(u, t))[0] for u, t in ctx["others"]]
    if any(c != 401 for c in dead):
        raise Failure("the other devices' tokens answer %s (want 401 each)" % dead)
    # The page keeps working with the token the API answered.
    ctx["user_token"] = json.loads(p.value("return sessionStorage.getItem('sessionsConsole.auth');"))["authToken"]
    p.click_ready("#mine-refresh", "Refresh")
    p.wait("return __q('#main').getAttribute('aria-busy') === 'false' && __qa('#mine-rows tr.current').length === 1 "
           "&& !__t('#alert');", "the list after signing out everywhere else")
    p.check_clean("signing out everywhere else")
    s.ok("sign out everywhere else", "%r; %d rows before, now only this device; the other tokens get 401; the page "
         "still works" % (msg, before))


def step_sign_out(s, ctx):
    p = s.page
    p.click("#signout", "Sign out")
    msg = p.wait_text("#status", "You are signed out.", "the signed-out message")
    p.wait("return __vis(__q('#view-signin')) && !__vis(__q('#view-app'));", "the sign-in page after signing out")
    kept = p.value("return sessionStorage.getItem('sessionsConsole.auth');")
    code, _, _ = api(s.base, "GET", "/api/v1/me", auth_headers(ctx["user_id"], ctx["user_token"]))
    if kept or code != 401:
        raise Failure("after signing out the tab keeps %r and the token answers %s (want nothing and 401)" % (kept, code))
    p.check_clean("signing out")
    s.ok("sign out", "%r, sign-in page shown, token forgotten by the tab and refused by the API (401)" % msg)


def step_admin_signs_in(s, ctx, codes):
    p = s.page
    p.type_into("#signin-user", ADMIN)
    p.type_into("#signin-password", PASSWORD)
    p.press("Enter")
    p.wait("return __vis(__q('#code-form'));", "the code step for a user with TOTP")
    label = p.text("#code-label")
    if "authenticator" not in label:
        raise Failure("the code step should ask for the authenticator's code; its label is %r" % label)
    a = p.axe("the sign-in code step")
    p.type_into("#code-input", codes.fresh())
    p.press("Enter")
    outcome = p.wait("return __vis(__q('#panel-mine')) && __qa('#mine-rows tr.current').length === 1 ? 'in' : "
                     "(__t('#alert') || '').includes('already used') ? 'refused' : null;", "the admin's devices")
    retried = ""
    if outcome == "refused":
        # A run just before this one (against the same local run) spent this step: each is accepted once.
        codes.used = codes.now_step()
        p.type_into("#code-input", codes.fresh())
        p.press("Enter")
        p.wait("return __vis(__q('#panel-mine')) && __qa('#mine-rows tr.current').length === 1;", "the admin's devices")
        retried = " (the first code's step was spent by an earlier run: the next one was accepted)"
    tabs = p.value("return __qa('[role=tab]').filter(__vis).map(t => t.innerText.trim());")
    if tabs != ["My devices", "All devices", "Audit log"]:
        raise Failure("an administrator should see My devices, All devices and Audit log; tabs: %s" % tabs)
    auth = json.loads(p.value("return sessionStorage.getItem('sessionsConsole.auth');"))
    ctx["admin_id"], ctx["admin_token"] = auth["userId"], auth["authToken"]
    _, b, _ = api(s.base, "GET", "/api/v1/sessions/list?count=100", auth_headers(ctx["admin_id"], ctx["admin_token"]))
    ctx["admin_session"] = next(x["sessionId"] for x in b["sessions"] if x.get("current"))
    p.check_clean("the admin's sign-in")
    s.ok("admin signs in with TOTP", "code step labelled %r (%s); tabs %s%s" % (label, a, tabs, retried))


def step_step_up(s, ctx, codes):
    p = s.page
    p.click("#tab-all", "the All devices tab")
    p.wait("return __q('#stepup').open && document.activeElement.id === 'stepup-code';", "the step-up prompt, focused")
    p.press("Escape")  # cancels: nothing is loaded, and the page says why
    cancelled = p.wait_text("#alert", "Cancelled", "the cancelled step-up's sentence")
    p.wait_text("#all-empty", "press Refresh", "the empty list's hint")
    p.click("#all-refresh", "Refresh")
    p.wait("return __q('#stepup').open;", "the step-up prompt again")
    help_text = p.text("#stepup-help")
    p.type_into("#stepup-code", codes.wrong())
    p.press("Enter")
    err = p.wait_text("#stepup-error", "That code is not right", "the wrong-code sentence")
    if not p.value("return __q('#stepup').open;"):
        raise Failure("the step-up prompt closed after a wrong code")
    a = p.axe("the step-up prompt with a wrong code")
    shot = p.screenshot("step-up-wrong-code.png")
    s.ok("wrong 2FA code", "Escape cancels the prompt: %r; again, prompt %r; after a wrong code: %r; %s; screenshot %s"
         % (cancelled, help_text[:60], err, a, shot))

    p.type_into("#stepup-code", codes.fresh())
    p.press("Enter")
    p.wait("return !__q('#stepup').open && __qa('#all-rows tr').length > 0;", "All devices after the right code")
    ctx["ua"] = p.value("return navigator.userAgent;")
    status = p.wait_text("#status", "Verified", "the verified message")
    shown = p.value("return {rows: __qa('#all-rows tr').length, page: __t('#all-pager .page-of'), "
                    "range: __t('#all-pager .range'), sort: __q('th[aria-sort]') && __q('th[aria-sort]').dataset.sort, "
                    "dir: __q('th[aria-sort]') && __q('th[aria-sort]').getAttribute('aria-sort')};")
    if shown["sort"] != "loginAt" or shown["dir"] != "descending":
        raise Failure("All devices should start newest first (aria-sort descending on Signed in): %s" % shown)
    p.check_clean("All devices")
    a = p.axe("All devices")
    s.ok("step-up and All devices", "%r; %d rows, %s, %s, newest first; %s"
         % (status, shown["rows"], shown["page"], shown["range"], a))


def column(p, label):
    return p.value("return __qa('#all-rows tr').map(r => { const c = r.querySelector(%s); "
                   "return c ? c.innerText.trim() : null; });" % q('td[data-label="%s"]' % label))


def times(p):
    return p.value("return __qa('#all-rows tr td[data-label=\"Signed in\"] time').map(t => t.getAttribute('datetime'));")


def watch_busy(p, selector):
    """Records whether the page shows its busy state and disables the control during the next call."""
    p.value(r"""
      window.__busy = {main: false, control: false, bar: false};
      const c = __q(%s);
      window.__busyObs = new MutationObserver(() => {
        if (__q('#main').getAttribute('aria-busy') === 'true') window.__busy.main = true;
        if (!__q('#busy').hidden) window.__busy.bar = true;
        if (c && c.getAttribute('aria-disabled') === 'true') window.__busy.control = true;
      });
      window.__busyObs.observe(document.body, {attributes: true, subtree: true});
      return true;
    """ % q(selector))


def busy_seen(p):
    return p.value("window.__busyObs && window.__busyObs.disconnect(); return window.__busy;")


def ui_ids(p):
    return p.value("return __qa('#all-rows tr').map(r => r.dataset.sessionId);")


def same_as_api(s, ctx, what, shown, **params):
    """The rows shown are exactly list.all's answer to the same query. The API is called with the page's token
    and the browser's User-Agent from the same address, so the page's remembered 2FA covers it."""
    if "sort" in params:
        params["sort"] = json.dumps(params["sort"], separators=(",", ":"))
    status, b, _ = api(s.base, "GET", "/api/v1/sessions/list.all?" + urllib.parse.urlencode(params),
                       auth_headers(ctx["admin_id"], ctx["admin_token"]), ua=ctx["ua"])
    if status != 200:
        raise Failure("list.all %s through the API answered %s %s" % (params, status, b))
    want = [x["sessionId"] for x in b["sessions"]]
    if shown != want:
        raise Failure("%s: the page shows sessions %s; list.all with %s answers %s" % (what, shown, params, want))
    return b["total"]


def step_sort(s, ctx):
    p = s.page
    sel = "#all-table th[data-sort='_user.username'] button.sort"
    watch_busy(p, sel)
    p.click(sel, "sort by Username")
    p.wait("return __q(\"th[data-sort='_user.username']\").getAttribute('aria-sort') === 'ascending' && "
           "__q('#main').getAttribute('aria-busy') === 'false';", "the list sorted by username, ascending")
    busy = busy_seen(p)
    up = column(p, "Username")
    if up != sorted(up) or len(up) < 2:
        raise Failure("sorted by username ascending, the rows show %s" % up)
    if not (busy["main"] and busy["control"] and busy["bar"]):
        raise Failure("while the sorted page loaded, the page should show aria-busy, the busy bar and a disabled "
                      "sort button; seen: %s" % busy)
    same_as_api(s, ctx, "sorted by username", ui_ids(p), offset=0, count=10, sort={"_user.username": 1})
    others = p.value("return __qa('#all-table th[aria-sort]').length;")
    if others != 1:
        raise Failure("exactly one column header should carry aria-sort; %d do" % others)
    p.check_clean("sorting")
    shot = p.screenshot("all-devices-sorted.png")
    a = p.axe("All devices sorted")

    p.click(sel, "sort by Username again")
    p.wait("return __q(\"th[data-sort='_user.username']\").getAttribute('aria-sort') === 'descending' && "
           "__q('#main').getAttribute('aria-busy') === 'false';", "the list sorted by username, descending")
    down = column(p, "Username")
    if down != sorted(down, reverse=True):
        raise Failure("sorted by username descending, the rows show %s" % down)
    same_as_api(s, ctx, "sorted by username, descending", ui_ids(p), offset=0, count=10, sort={"_user.username": -1})

    p.click("#all-table th[data-sort='loginAt'] button.sort", "sort by Signed in")
    p.wait("return __q(\"th[data-sort='loginAt']\").getAttribute('aria-sort') === 'descending' && "
           "__q('#main').getAttribute('aria-busy') === 'false';", "the list sorted newest first")
    p.click("#all-table th[data-sort='loginAt'] button.sort", "sort by Signed in again")
    p.wait("return __q(\"th[data-sort='loginAt']\").getAttribute('aria-sort') === 'ascending' && "
           "__q('#main').getAttribute('aria-busy') === 'false';", "the list sorted oldest first")
    t = times(p)
    if t != sorted(t):
        raise Failure("sorted oldest first, the sign-in times are %s" % t)
    same_as_api(s, ctx, "sorted oldest first", ui_ids(p), offset=0, count=10, sort={"loginAt": 1})
    s.ok("sort", "by username ascending %s, then descending %s; by sign-in time oldest first (%s … %s); each page "
         "the same sessions as list.all's; busy state %s; %s; screenshot %s" % (up[:4], down[:3], t[0], t[-1], busy, a, shot))


def step_filter(s, ctx):
    p = s.page
    p.type_into("#all-filter", "rodriq")
    p.press("Enter")
    status = p.wait_text("#status", 'match "rodriq"', "the filter's result")
    names = column(p, "Username")
    if not names or any(n != "rodriq" for n in names):
        raise Failure("filtered on rodriq, the rows' usernames are %s" % names)
    caption = p.text("#all-caption")
    same_as_api(s, ctx, "filtered on rodriq", ui_ids(p), offset=0, count=10, sort={"loginAt": 1}, filter="rodriq")
    p.check_clean("filtering")
    a = p.axe("All devices filtered")
    shot = p.screenshot("all-devices-filtered.png")
    p.click("#all-filter-clear", "Clear")
    p.wait_text("#status", "Filter cleared", "the filter cleared")
    s.ok("filter", "%r; %d rows, every username rodriq; caption %r; %s; screenshot %s"
         % (status, len(names), caption, a, shot))


def step_paging(s, ctx):
    p = s.page
    p.choose("#all-size", "5")
    p.wait("return __t('#all-pager .range') && __t('#all-pager .range').startsWith('Rows 1–5 of');", "5 rows a page")
    rng = p.text("#all-pager .range")
    total = int(rng.rsplit(" ", 1)[1])
    pages = int(math.ceil(total / 5.0))
    if total <= 10:
        raise Failure("paging needs more than two pages of 5; the list has %d sessions" % total)
    first = p.text("#all-pager .page-of")
    if first != "Page 1 of %d" % pages:
        raise Failure("the pager shows %r, want 'Page 1 of %d'" % (first, pages))
    seen = list(p.value("return __qa('#all-rows tr').map(r => r.dataset.sessionId);"))
    p.click("#all-pager button[data-go=next]", "Next")
    p.wait("return __t('#all-pager .page-of') === 'Page 2 of %d' && __q('#main').getAttribute('aria-busy') === 'false';"
           % pages, "page 2")
    seen += p.value("return __qa('#all-rows tr').map(r => r.dataset.sessionId);")
    p.click("#all-pager button[data-go=last]", "Last")
    p.wait("return __t('#all-pager .page-of') === 'Page %d of %d' && __q('#main').getAttribute('aria-busy') === 'false';"
           % (pages, pages), "the last page")
    last = p.value(r"""
      return {ids: __qa('#all-rows tr').map(r => r.dataset.sessionId), page: __t('#all-pager .page-of'),
              range: __t('#all-pager .range'),
              next: __q('#all-pager button[data-go=next]').getAttribute('aria-disabled'),
              lastBtn: __q('#all-pager button[data-go=last]').getAttribute('aria-disabled'),
              focus: document.activeElement && document.activeElement.dataset.go};
    """)
    want_rows = total - 5 * (pages - 1)
    if len(last["ids"]) != want_rows or last["next"] != "true" or last["lastBtn"] != "true":
        raise Failure("on the last page: %s; want %d rows and Next/Last unavailable" % (last, want_rows))
    api_total = same_as_api(s, ctx, "the last page", last["ids"], offset=5 * (pages - 1), count=5, sort={"loginAt": 1})
    if api_total != total:
        raise Failure("the pager counts %d sessions; list.all's total is %d" % (total, api_total))
    if last["focus"] != "last":
        raise Failure("focus should stay on the Last button after paging; it is on %r" % last["focus"])
    p.check_clean("paging")
    a = p.axe("All devices, last page")
    shot = p.screenshot("all-devices-last-page.png")
    # Back through every page from the first: every session exactly once.
    p.click("#all-pager button[data-go=first]", "First")
    p.wait("return __t('#all-pager .page-of') === 'Page 1 of %d' && __q('#main').getAttribute('aria-busy') === 'false';"
           % pages, "page 1 again")
    every = []
    for n in range(1, pages + 1):
        every += p.value("return __qa('#all-rows tr').map(r => r.dataset.sessionId);")
        if n < pages:
            p.click("#all-pager button[data-go=next]", "Next")
            p.wait("return __t('#all-pager .page-of') === 'Page %d of %d' && "
                   "__q('#main').getAttribute('aria-busy') === 'false';" % (n + 1, pages), "page %d" % (n + 1))
    if len(every) != total or len(set(every)) != total:
        raise Failure("paging through %d pages showed %d rows, %d distinct; want each of the %d sessions once"
                      % (pages, len(every), len(set(every)), total))
    s.ok("paging", "5 a page: %r, %r; last page %r with %d rows (%r), Next and Last unavailable, focus kept on Last; "
         "pages 1 to %d show all %d sessions once; %s; screenshot %s"
         % (first, "Page 2 of %d" % pages, last["page"], len(last["ids"]), last["range"], pages, total, a, shot))


def step_detail(s, ctx):
    p = s.page
    p.choose("#all-size", "10")
    p.wait("return __t('#all-pager .range') && __t('#all-pager .range').startsWith('Rows 1–');", "10 rows a page")
    p.type_into("#all-filter", "rodriq")
    p.press("Enter")
    p.wait_text("#status", 'match "rodriq"', "the rodriq sessions")
    row = p.value("const r = __q('#all-rows tr'); return r ? r.dataset.sessionId : null;")
    p.click("#all-rows tr[data-session-id=%s] button.details" % q(row), "Details")
    p.wait("return __q('#detail').open && __t('#detail-facts');", "the session's detail")
    d = p.value(r"""
      const facts = {};
      __qa('#detail-facts dt').forEach(dt => { facts[dt.innerText.trim()] = dt.nextElementSibling.innerText.trim(); });
      return {title: __t('#detail-title'), state: __t('#detail-state'), facts,
              focus: document.activeElement && document.activeElement.id};
    """)
    f = d["facts"]
    if f.get("Session id") != row or f.get("Username") != "rodriq" or "Signed in" not in f or d["title"] != "Session of Rodriq":
        raise Failure("the detail of %s shows %s" % (row, d))
    p.check_clean("a session's detail")
    a = p.axe("a session's detail")
    p.press("Escape")
    p.wait("return !__q('#detail').open;", "the detail closed by Escape")
    back = p.value("const e = document.activeElement; return {cls: e.className, row: e.closest('tr') && "
                   "e.closest('tr').dataset.sessionId, outline: getComputedStyle(e).outlineStyle};")
    if back["cls"] != "details" or back["row"] != row or back["outline"] == "none":
        raise Failure("after Escape, focus should be back on the row's Details button, visibly; it is %s" % back)
    # A session the demo data located (test.test's QoYYFw2t9oKks2niG, Los Angeles), opened by id: its detail
    # shows where its sign-in came from (the session object's `location`).
    p.type_into("#lookup-id", LOCATED_SESSION)
    p.press("Enter")
    p.wait("return __q('#detail').open && __t('#detail-facts').includes(%s);" % q(LOCATED_SESSION),
           "the located session's detail")
    place = p.value("const dt = __qa('#detail-facts dt').find(d => d.innerText.trim() === 'Location');"
                    "return dt ? dt.nextElementSibling.innerText.trim() : null;")
    if place != LOCATED_PLACE:
        raise Failure("the detail of %s should show Location %r; it shows %r" % (LOCATED_SESSION, LOCATED_PLACE, place))
    shot = p.screenshot("session-detail.png")
    p.press("Escape")
    p.wait("return !__q('#detail').open;", "the located session's detail closed")
    s.ok("session detail", "%r, %r, session id %s, facts %s; Escape closes it and focus returns to Details (outline %s);"
         " %s; %s shows Location %r; screenshot %s"
         % (d["title"], d["state"], row, sorted(f), back["outline"], a, LOCATED_SESSION, place, shot))


def step_end_from_detail(s, ctx):
    p = s.page
    # A session of guester opened for this step, so the seeded ones stay.
    gid, gtoken = api_login(s.base, "guester", UA_EXTRA)
    _, b, _ = api(s.base, "GET", "/api/v1/sessions/list?count=100", auth_headers(gid, gtoken), ua=UA_EXTRA)
    sid = next(x["sessionId"] for x in b["sessions"] if x.get("current"))
    p.type_into("#lookup-id", sid)
    p.press("Enter")
    p.wait("return __q('#detail').open && !__q('#detail-end').hidden;", "the guester session's detail")
    p.click("#detail-end", "End this session")
    p.wait("return __q('#confirm').open;", "the confirmation")
    p.click("#confirm-yes", "End session")
    state = p.wait_text("#detail-state", "Ended", "the ended state in the detail")
    facts = p.value("const f = {}; __qa('#detail-facts dt').forEach(dt => { f[dt.innerText.trim()] = "
                    "dt.nextElementSibling.innerText.trim(); }); return f;")
    code, _, _ = api(s.base, "GET", "/api/v1/me", auth_headers(gid, gtoken), ua=UA_EXTRA)
    if "by you" not in state or not facts.get("Ended by", "").startswith("You") or code != 401 \
            or not p.value("return __q('#detail-end').hidden;"):
        raise Failure("after ending %s from its detail: state %r, facts %s, its token answers %s (want 401)"
                      % (sid, state, facts, code))
    p.check_clean("ending from the detail")
    shot = p.screenshot("session-ended.png")
    p.click("#detail-close", "Close")
    p.wait("return !__q('#detail').open;", "the detail closed")
    # Opened by id again (info.admin of an ended session): still shown, with who ended it.
    p.type_into("#lookup-id", sid)
    p.press("Enter")
    again = p.wait_text("#detail-state", "Ended", "the ended session opened by id")
    p.press("Escape")
    p.wait("return !__q('#detail').open;", "the detail closed")
    s.ok("end from the detail", "opened %s by id; after ending: %r, Ended by %r, its token gets 401; opened again: %r; "
         "screenshot %s" % (sid, state, facts.get("Ended by"), again, shot))


def step_audit(s):
    p = s.page
    p.click("#tab-audit", "the Audit log tab")
    p.wait("return __vis(__q('#audit-form'));", "the audit log form")
    p.type_into("#audit-key", "sk_not_a_key")
    p.press("Enter")
    wrong = p.wait_text("#alert", "That API key was not accepted", "the wrong key's sentence")
    p.type_into("#audit-key", DEMO_API_KEY)
    p.press("Enter")
    p.wait("return __qa('#audit-rows tr').length > 0 && __q('#main').getAttribute('aria-busy') === 'false';",
           "audit log entries")
    shown = p.value("return {rows: __qa('#audit-rows tr').length, page: __t('#audit-pager .page-of'), "
                    "events: __qa('#audit-rows td[data-label=Event]').map(c => c.innerText.split('\\n')[0]), "
                    "stored: JSON.stringify(sessionStorage).includes('sk_demo') || JSON.stringify(localStorage).includes('sk_demo')};")
    if shown["stored"] or not shown["page"] or not shown["page"].startswith("Page 1 of"):
        raise Failure("audit log: %s (the key must never be stored)" % shown)
    if not any(e in ("User Session Revoked", "User Sign In Succeeded", "User Sign Out Succeeded") for e in shown["events"]):
        raise Failure("the audit log should show sign-ins and ends; it shows %s" % shown["events"])
    paged = "one page only"
    if shown["page"] != "Page 1 of 1":
        p.click("#audit-pager button[data-go=next]", "Next")
        paged = p.wait("const t = __t('#audit-pager .page-of'); return t.startsWith('Page 2 of') && "
                       "__q('#main').getAttribute('aria-busy') === 'false' && __qa('#audit-rows tr').length > 0 ? t : null;",
                       "the audit log's page 2")
    p.check_clean("the audit log")
    a = p.axe("the audit log")
    shot = p.screenshot("audit-log.png")
    p.click("#audit-forget", "Forget key")
    p.wait_text("#status", "forgotten", "the key forgotten")
    s.ok("audit log", "a wrong key: %r; the demo key: %d entries, %r, then %r; the key never stored; %s; "
         "screenshot %s" % (wrong, shown["rows"], shown["page"], paged, a, shot))


def step_ended_elsewhere(s, ctx):
    p = s.page
    # MonoCloud's revoke with the API key ends the page's own session from outside.
    code, _, _ = api(s.base, "DELETE", "/api/users/%s/sessions/%s" % (ctx["admin_id"], ctx["admin_session"]),
                     {"X-API-KEY": DEMO_API_KEY})
    if code != 204:
        raise Failure("revoking the admin's session through the API answered %s" % code)
    p.click("#tab-mine", "the My devices tab")
    p.click_ready("#mine-refresh", "Refresh")
    msg = p.wait_text("#alert", "Your session has ended", "the ended-session sentence")
    p.wait("return __vis(__q('#view-signin')) && !sessionStorage.getItem('sessionsConsole.auth');",
           "the sign-in page after the session ended")
    p.check_clean("a session ended elsewhere")
    a = p.axe("the sign-in page after an ended session")
    s.ok("session ended elsewhere", "back on the sign-in page: %r; %s" % (msg, a))


def step_password_step_up(s):
    p = s.page
    # testroxie is an admin without a second factor: the step-up asks for the password, which the page sends as
    # its SHA-256 hex (crypto.subtle).
    p.type_into("#signin-user", "testroxie")
    p.type_into("#signin-password", PASSWORD)
    p.press("Enter")
    p.wait("return __vis(__q('#panel-mine')) && __qa('#mine-rows tr.current').length === 1;", "testroxie's devices")
    p.click("#tab-all", "the All devices tab")
    p.wait("return __q('#stepup').open;", "the step-up prompt")
    shown = p.value("return {label: __t('#stepup-label'), type: __q('#stepup-code').type};")
    if shown["label"] != "Your password" or shown["type"] != "password":
        raise Failure("the step-up of an admin without a second factor should ask for the password: %s" % shown)
    p.type_into("#stepup-code", PASSWORD)
    p.press("Enter")
    p.wait("return !__q('#stepup').open && __qa('#all-rows tr').length > 0;", "All devices after the password")
    p.click("#signout", "Sign out")
    p.wait_text("#status", "You are signed out.", "the signed-out message")
    p.check_clean("the password step-up")
    s.ok("password step-up", "testroxie's prompt asks for %r (a password field); the password opens All devices; "
         "signed out" % shown["label"])


# --------------------------------------------------------------------------------------------------------------


def run(args):
    binary = find_chromium(args.chromium)
    try:
        with open(args.axe, encoding="utf-8") as f:
            axe_source = f.read()
    except OSError as e:
        raise SetupError("cannot read axe-core at %s (scripts/lib.sh ensure_axe_core installs it): %s" % (args.axe, e))
    base = args.base.rstrip("/")
    tmp = tempfile.mkdtemp(prefix="console-page-chromium-")
    proc = cdp = None
    page = None
    try:
        port = free_port()
        proc = start_chromium(binary, tmp, port)
        version = wait_devtools(proc, port, tmp)
        cdp = CDP(page_ws_url(port))
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            cdp.call(domain)
        print("browser: %s (DevTools port %d); console %s/console" % (version.get("Browser", "?"), port, base))
        page = Page(cdp, base, axe_source, args.screenshots)
        steps = Steps(page, base)
        ctx = {}
        codes = Totp(ADMIN_TOTP_SECRET)
        try:
            step_document(steps)
            step_signin_page(steps)
            step_wrong_password(steps)
            step_blocked(steps)
            step_user_signs_in(steps, ctx)
            step_end_other(steps, ctx)
            step_service_busy(steps)
            step_risk(steps)
            step_preference(steps, ctx)
            step_phone(steps)
            step_others_out(steps, ctx)
            step_sign_out(steps, ctx)
            step_admin_signs_in(steps, ctx, codes)
            step_step_up(steps, ctx, codes)
            step_sort(steps, ctx)
            step_filter(steps, ctx)
            step_paging(steps, ctx)
            step_detail(steps, ctx)
            step_end_from_detail(steps, ctx)
            step_audit(steps)
            step_ended_elsewhere(steps, ctx)
            step_password_step_up(steps)
        except Failure:
            print("FAIL %2d (see below)" % (steps.n + 1), flush=True)
            try:
                print("screenshot at failure: %s" % page.screenshot("failure.png"))
            except Exception as e:  # never hide the real failure behind a screenshot problem
                print("screenshot at failure: not written (%s)" % e)
            raise
        serious = sum(n for _, n, _ in page.axe_runs)
        print("axe-core: %d views checked, %d serious or critical violations, %d minor or moderate"
              % (len(page.axe_runs), serious, sum(n for _, _, n in page.axe_runs)))
        print("screenshots: %s" % ", ".join(page.shot_list))
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
    ap = argparse.ArgumentParser(description="Headless-browser test of the device-management console at <base>/console.")
    ap.add_argument("--base", required=True, help="server base URL, e.g. http://127.0.0.1:9000")
    ap.add_argument("--screenshots", required=True, help="folder for the PNG screenshots (created), e.g. docs/console")
    ap.add_argument("--axe", default=DEFAULT_AXE, help="axe-core's axe.min.js (default: %(default)s)")
    ap.add_argument("--chromium", default="chromium", help="chromium binary (name on PATH or a path)")
    args = ap.parse_args()
    try:
        run(args)
    except SetupError as e:
        print("console page test: cannot run: %s" % e, file=sys.stderr)
        return 2
    except Failure as e:
        print("console page test FAILED:\n%s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("console page test: interrupted", file=sys.stderr)
        return 130
    print("console page test: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
