// The device-management console (docs/console.md): plain JavaScript, no framework, no eval,
// no innerHTML with data. It talks to this origin's API only (Rocket.Chat's routes with the
// caller's token; MonoCloud's audit log with an API key the operator pastes, kept in memory).
(function () {
  'use strict';

  var AUTH_KEY = 'sessionsConsole.auth'; // sessionStorage: this tab only
  var TAB_KEY = 'sessionsConsole.tab';

  var $ = function (id) { return document.getElementById(id); };
  var main = $('main');

  // ------------------------------------------------------------------------------------------
  // State

  var auth = null; // {userId, authToken, username, name}
  var me = null; // GET /api/v1/me
  var apiKey = ''; // the audit log's key: memory only, never stored
  var currentSessionId = null; // this tab's session, from the list's `current` marker
  var stepUpPending = null; // the open step-up prompt, shared by calls that need it

  var mine = { offset: 0, count: 50, total: 0, loaded: false };
  var all = { offset: 0, count: 10, sortKey: 'loginAt', sortDir: -1, filter: '', total: 0, loaded: false };
  var audit = { page: 1, size: 20, filter: '', total: 0 };
  var pagers = {};

  var SORTS = [
    ['loginAt', -1, 'Signed in, newest first'], ['loginAt', 1, 'Signed in, oldest first'],
    ['_user.name', 1, 'Name, A to Z'], ['_user.name', -1, 'Name, Z to A'],
    ['_user.username', 1, 'Username, A to Z'], ['_user.username', -1, 'Username, Z to A'],
    ['device.name', 1, 'Browser or app, A to Z'], ['device.name', -1, 'Browser or app, Z to A'],
    ['device.os.name', 1, 'Operating system, A to Z'], ['device.os.name', -1, 'Operating system, Z to A'],
    ['device.os.version', 1, 'OS version, low to high'], ['device.os.version', -1, 'OS version, high to low']
  ];

  // ------------------------------------------------------------------------------------------
  // Small DOM helpers (text only: data never becomes markup)

  function h(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else if (k === 'on') Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); });
        else e.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(parent, kid) {
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(parent, k); }); return; }
    parent.appendChild(typeof kid === 'string' || typeof kid === 'number' ? document.createTextNode(String(kid)) : kid);
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function vh(text) { return h('span', { class: 'vh', text: text }); }

  // ------------------------------------------------------------------------------------------
  // Messages and the busy state

  function setStatus(text) { $('alert').textContent = ''; $('status').textContent = text || ''; }
  function showAlert(text) { $('status').textContent = ''; $('alert').textContent = text || ''; }
  function clearMessages() { $('status').textContent = ''; $('alert').textContent = ''; }
  function report(e) {
    if (!e || e.handled) return;
    if (e instanceof Problem) showAlert(e.message);
    else {
      showAlert('Something went wrong in this page. Reload it and try again.');
      if (window.console) console.error(e);
    }
  }

  var busyCount = 0;
  function busy(delta) {
    busyCount = Math.max(0, busyCount + delta);
    var on = busyCount > 0 ? 'true' : 'false';
    $('busy').hidden = busyCount === 0;
    main.setAttribute('aria-busy', on);
    ['detail', 'stepup'].forEach(function (id) { $(id).setAttribute('aria-busy', on); });
  }

  // Runs an action for a control: the control is disabled (aria-disabled, so that keyboard
  // focus stays on it) until the action ends, and a second activation meanwhile does nothing.
  function act(control, fn) {
    if (control && control.getAttribute('aria-disabled') === 'true') return Promise.resolve();
    if (control) control.setAttribute('aria-disabled', 'true');
    return Promise.resolve().then(fn).catch(report).then(function () {
      if (control) control.removeAttribute('aria-disabled');
    });
  }

  // ------------------------------------------------------------------------------------------
  // Calling the API, and saying what went wrong as a sentence

  function Problem(sentence, info) {
    this.message = sentence;
    info = info || {};
    this.status = info.status || 0;
    this.code = info.code || '';
    this.details = info.details || {};
    this.sessionEnded = !!info.sessionEnded;
    this.cancelled = !!info.cancelled;
    this.handled = false;
  }
  Problem.prototype = Object.create(Error.prototype);
  Problem.prototype.constructor = Problem;
  Problem.prototype.name = 'Problem';

  function errorCode(body) {
    if (!body || typeof body !== 'object') return '';
    if (typeof body.errorType === 'string') return body.errorType;
    if (typeof body.error === 'string') {
      var m = /\[([A-Za-z0-9_.-]+)\]\s*$/.exec(body.error);
      if (m) return m[1];
      if (/^[a-z][a-z0-9-]*$/.test(body.error)) return body.error;
      if (/HAVEN'T BEEN SET UP/i.test(body.error)) return 'preferences-not-set';
    }
    return '';
  }

  function retryAfter(headers) {
    var v = headers && headers.get('Retry-After');
    if (!v) return 0;
    v = v.trim();
    if (/^\d+$/.test(v)) return Math.max(1, parseInt(v, 10));
    var t = Date.parse(v);
    return isNaN(t) ? 0 : Math.max(1, Math.ceil((t - Date.now()) / 1000));
  }
  function seconds(n) { return n === 1 ? '1 second' : n + ' seconds'; }
  function sentence(s) { s = String(s || '').trim(); return /[.!?]$/.test(s) ? s : s + '.'; }

  // The person-readable sentence for an error answer. `ctx`: 'login', 'apikey' or undefined.
  function explain(status, body, headers, ctx) {
    var code = errorCode(body);
    var details = (body && body.details) || {};
    var info = { status: status, code: code, details: details };
    var say = function (s) { return new Problem(s, info); };
    var wait = retryAfter(headers);
    var later = wait ? 'Try again in ' + seconds(wait) + '.' : 'Try again in a few minutes.';

    if (status === 503) return say('The service is busy; try again in ' + seconds(wait || 1) + '.');
    if (status === 429) return say(wait ? 'Too many requests at once; try again in ' + seconds(wait) + '.'
      : 'Too many requests at once; wait a moment and try again.');
    switch (code) {
      case 'totp-required':
        return say('This needs a second-factor code.');
      case 'totp-invalid':
        if (details.method === 'password') return say('That password is not right.');
        if (details.method === 'email') return say('That code is not right, or it has expired. Enter the newest code from your email.');
        return say('That code is not right, or it was already used. Enter the newest code your authenticator app shows.');
      case 'totp-max-attempts':
        return say('Too many wrong codes: codes are refused for a while (up to 15 minutes). Try again later.');
      case 'error-login-blocked-for-user':
        return say('Too many failed sign-ins to this account, so it is blocked for now. ' + later);
      case 'error-login-blocked-for-ip':
        return say('Too many failed sign-ins from your network address, so sign-ins from it are blocked for now. ' + later);
      case 'error-invalid-sort':
      case 'error-invalid-sort-keys':
        return say('The list cannot be sorted by that column.');
      case 'preferences-not-set':
        return say('You have not saved any preference yet.');
      case 'error-action-not-allowed':
        return say('You may change only your own preferences.');
      case 'error-invalid-user-id':
        return say('That user does not exist.');
      case 'invalid-params': {
        var msg = String(body.error || '').replace(/\s*\[invalid-params\]\s*$/, '');
        if (/too many sessions match/i.test(msg)) {
          return say('Too many sessions match to filter and sort in one go. Use a narrower filter, or sort by one column without a filter.');
        }
        return say('The request was refused: ' + sentence(msg));
      }
    }
    if (status === 401) {
      if (ctx === 'login') return say('The username, email or password is not right.');
      if (ctx === 'apikey') return say('That API key was not accepted: it is unknown, disabled or mistyped.');
      info.sessionEnded = true;
      return say('Your session has ended: it was signed out, ended from another device, or it expired. Sign in again.');
    }
    if (status === 403) {
      if (ctx === 'apikey') return say('That API key may not read the audit log: it needs the logs:read scope.');
      return say('Your account does not have permission to do this.');
    }
    if (status === 404) {
      var what = body && (body.error || body.detail);
      if (what === 'Session not found') return say('That session is not there: it has ended, expired, or the id is wrong.');
      if (what === 'User not found') return say('That user does not exist.');
      return say('This server does not offer that: it answered "not found".');
    }
    if (status === 422 && body && body.errors && typeof body.errors === 'object') {
      var msgs = [];
      Object.keys(body.errors).forEach(function (k) {
        [].concat(body.errors[k]).forEach(function (m) { msgs.push(sentence(m)); });
      });
      return say('The request was refused: ' + (msgs.join(' ') || 'a value is not valid.'));
    }
    if (status === 400 && body && typeof body.detail === 'string') return say('The request was refused: ' + sentence(body.detail));
    if (status >= 500) return say('Something went wrong on the server (error ' + status + '). Try again in a moment.');
    if (status === 413) return say('The request was too large.');
    return say('The server refused the request (error ' + status + ').');
  }

  function qs(params) {
    return Object.keys(params).filter(function (k) {
      return params[k] !== undefined && params[k] !== null && params[k] !== '';
    }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(String(params[k]));
    }).join('&');
  }

  // One call to this origin. Resolves {status, body, headers}; rejects with a Problem.
  // opt: query, body, anonymous, apiKey, twoFactor {code, method}, method2fa, context.
  function request(method, path, opt) {
    opt = opt || {};
    var headers = { Accept: 'application/json' };
    if (opt.apiKey) headers['X-API-KEY'] = opt.apiKey;
    else if (!opt.anonymous && auth) {
      headers['X-User-Id'] = auth.userId;
      headers['X-Auth-Token'] = auth.authToken;
    }
    if (opt.twoFactor) {
      headers['X-2fa-Code'] = opt.twoFactor.code;
      headers['X-2fa-Method'] = opt.twoFactor.method;
    }
    if (opt.method2fa) headers['X-2fa-Method'] = opt.method2fa;
    var init = { method: method, headers: headers, credentials: 'omit', cache: 'no-store', redirect: 'error' };
    if (opt.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opt.body);
    }
    var q = opt.query ? qs(opt.query) : '';
    var sentBy = auth;
    busy(1);
    return fetch(path + (q ? '?' + q : ''), init).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        if (text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
        if (res.ok) return { status: res.status, body: body, headers: res.headers };
        var p = explain(res.status, body, res.headers, opt.context);
        if (p.sessionEnded && !opt.apiKey && !opt.anonymous && auth && auth === sentBy) {
          signedOutHere(p.message, true);
          p.handled = true;
        }
        throw p;
      });
    }, function () {
      throw new Problem('The server could not be reached. Check your connection and try again.', { status: 0 });
    }).then(function (r) { busy(-1); return r; }, function (e) { busy(-1); throw e; });
  }

  // A call to a route behind step-up 2FA: on totp-required, the prompt asks for a code and
  // the call is sent again with it. The server then trusts this token for a while.
  function adminCall(method, path, opt) {
    return request(method, path, opt).catch(function (e) {
      if (e.code !== 'totp-required') throw e;
      if (stepUpPending) {
        return stepUpPending.then(function () { return request(method, path, opt); });
      }
      stepUpPending = stepUp(e.details, function (tf) {
        return request(method, path, Object.assign({}, opt, { twoFactor: tf }));
      });
      var done = function () { stepUpPending = null; };
      stepUpPending.then(done, done);
      return stepUpPending;
    });
  }

  function sha256hex(text) {
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.reject(new Problem('This browser cannot check a password here: open the console over HTTPS.', {}));
    }
    return window.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
    });
  }

  // ------------------------------------------------------------------------------------------
  // Formatting

  var dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  var relFmt = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  var numFmt = new Intl.NumberFormat();

  function ago(ms) {
    if (!relFmt) return '';
    var s = (ms - Date.now()) / 1000, a = Math.abs(s);
    if (a < 45) return relFmt.format(Math.round(s), 'second');
    if (a < 2700) return relFmt.format(Math.round(s / 60), 'minute');
    if (a < 79200) return relFmt.format(Math.round(s / 3600), 'hour');
    if (a < 86400 * 26) return relFmt.format(Math.round(s / 86400), 'day');
    if (a < 86400 * 320) return relFmt.format(Math.round(s / (86400 * 30.44)), 'month');
    return relFmt.format(Math.round(s / (86400 * 365.25)), 'year');
  }
  function timeEl(value) {
    var d = typeof value === 'number' ? new Date(value) : new Date(String(value || ''));
    if (!value || isNaN(d.getTime())) return h('span', { class: 'muted', text: 'Unknown' });
    var iso = d.toISOString();
    var rel = ago(d.getTime());
    return h('span', null, h('time', { datetime: iso, title: iso, text: dateFmt.format(d) }),
      rel ? h('span', { class: 'sub', text: rel }) : null);
  }
  function timeText(value) {
    var d = new Date(typeof value === 'number' ? value : String(value || ''));
    return isNaN(d.getTime()) ? 'Unknown' : dateFmt.format(d);
  }

  var TYPES = { browser: 'Browser', mobile: 'Phone or tablet', 'mobile-app': 'Mobile app', 'desktop-app': 'Desktop app',
    tablet: 'Tablet', smartphone: 'Phone', crawler: 'Robot', other: 'Other' };
  function deviceType(d) { return (d && (TYPES[d.type] || d.type)) || 'Unknown'; }
  function client(d) { return d && d.name ? (d.version ? d.name + ' ' + d.version : d.name) : 'Unknown'; }
  function osName(d) { return (d && d.os && d.os.name) || 'Unknown'; }
  function osText(d) {
    var o = (d && d.os) || {};
    return [o.name, o.version].filter(Boolean).join(' ') || 'Unknown';
  }
  function describe(s) {
    var what = client(s.device) + ' on ' + osText(s.device);
    return s.ip ? what + ' (' + s.ip + ')' : what;
  }
  function place(s) {
    var g = s && s.location;
    if (!g || typeof g !== 'object') return '';
    return [g.city, g.region, g.country].filter(Boolean).join(', ');
  }
  function riskText(r) {
    if (!r) return '';
    if (r.reason === 'impossible_travel') {
      var parts = [];
      if (r.distanceKm !== undefined) parts.push(numFmt.format(r.distanceKm) + ' km from the previous sign-in');
      if (r.speedKmh !== undefined) parts.push('at ' + numFmt.format(r.speedKmh) + ' km/h');
      return 'Impossible travel' + (parts.length ? ': ' + parts.join(' ') : '');
    }
    return 'Flagged: ' + String(r.reason || 'unusual sign-in');
  }
  function riskEl(r) {
    if (!r) return h('span', { class: 'muted', text: 'None' });
    return h('span', { class: 'risk' }, h('span', { 'aria-hidden': 'true', text: '⚠ ' }), riskText(r));
  }
  // A cell labelled by its column (the label shows on phones, where rows become cards).
  function td(label, content, cls) { return h('td', { 'data-label': label, class: cls }, h('span', { class: 'v' }, content)); }

  // ------------------------------------------------------------------------------------------
  // Dialogs

  function openDialog(d) { if (!d.open) d.showModal(); }
  function closeDialog(d) { if (d.open) d.close(); }

  // Resolves true for "yes", false for "cancel" or Escape.
  function confirmDialog(title, text, yesLabel) {
    return new Promise(function (resolve) {
      var d = $('confirm'), yes = $('confirm-yes'), no = $('confirm-no');
      var opener = document.activeElement;
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      yes.textContent = yesLabel;
      function finish(v) {
        yes.removeEventListener('click', onYes);
        no.removeEventListener('click', onNo);
        d.removeEventListener('cancel', onCancel);
        closeDialog(d);
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(v);
      }
      function onYes() { finish(true); }
      function onNo() { finish(false); }
      function onCancel(ev) { ev.preventDefault(); finish(false); }
      yes.addEventListener('click', onYes);
      no.addEventListener('click', onNo);
      d.addEventListener('cancel', onCancel);
      openDialog(d);
      no.focus();
    });
  }

  function configureStepUp(method, generated) {
    var input = $('stepup-code');
    input.type = method === 'password' ? 'password' : 'text';
    input.setAttribute('autocomplete', method === 'password' ? 'current-password' : 'one-time-code');
    if (method === 'email') input.setAttribute('inputmode', 'numeric'); else input.removeAttribute('inputmode');
    if (method === 'password') {
      $('stepup-label').textContent = 'Your password';
      $('stepup-help').textContent = 'The administrator views ask you to confirm it is you. Your account confirms with its password: enter it again.';
    } else if (method === 'email') {
      $('stepup-label').textContent = 'Code from the email';
      $('stepup-help').textContent = generated
        ? 'The administrator views ask you to confirm it is you. We just emailed you a 6-digit code, valid for an hour: enter it here.'
        : 'The administrator views ask you to confirm it is you. Enter the 6-digit code we emailed you.';
    } else {
      $('stepup-label').textContent = 'Code from your authenticator app';
      $('stepup-help').textContent = 'The administrator views ask you to confirm it is you. Enter the current code your authenticator app shows (or an 8-character backup code). A code already used, to sign in for example, is refused: wait for the next one.';
    }
  }

  // The step-up prompt: resolves with `retry`'s answer once a code is accepted; rejects when
  // cancelled (Escape or Cancel) or on any answer but a wrong code.
  function stepUp(details, retry) {
    details = details || {};
    return new Promise(function (resolve, reject) {
      var d = $('stepup'), form = $('stepup-form'), input = $('stepup-code'), err = $('stepup-error');
      var submit = $('stepup-submit'), cancel = $('stepup-cancel');
      var method = details.method || 'totp';
      var opener = document.activeElement;
      var running = false;
      configureStepUp(method, details.codeGenerated);
      err.textContent = '';
      input.value = '';
      function finish(ok, v) {
        form.removeEventListener('submit', onSubmit);
        cancel.removeEventListener('click', onCancelButton);
        d.removeEventListener('cancel', onCancel);
        closeDialog(d);
        input.value = '';
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        if (ok) resolve(v); else reject(v);
      }
      function onSubmit(ev) {
        ev.preventDefault();
        if (running) return;
        var raw = input.value.trim();
        if (!raw) {
          err.textContent = method === 'password' ? 'Enter your password.' : 'Enter the code.';
          input.focus();
          return;
        }
        running = true;
        submit.setAttribute('aria-disabled', 'true');
        var code = method === 'password' ? sha256hex(input.value) : Promise.resolve(raw.replace(/\s+/g, ''));
        code.then(function (c) { return retry({ code: c, method: method }); }).then(function (r) {
          setStatus('Verified: this device is not asked again for a while.');
          finish(true, r);
        }, function (e) {
          if (e instanceof Problem && e.code === 'totp-invalid') {
            err.textContent = e.message;
            input.value = '';
            input.focus();
          } else if (e instanceof Problem && e.code === 'totp-required') {
            method = (e.details && e.details.method) || method;
            configureStepUp(method, e.details && e.details.codeGenerated);
            err.textContent = 'A new code is needed.';
            input.value = '';
            input.focus();
          } else {
            finish(false, e);
          }
        }).then(function () {
          running = false;
          submit.removeAttribute('aria-disabled');
        });
      }
      function cancelled() {
        return new Problem('Cancelled: the administrator views need you to confirm it is you, so nothing was loaded.', { cancelled: true });
      }
      function onCancel(ev) { ev.preventDefault(); if (!running) finish(false, cancelled()); }
      function onCancelButton() { if (!running) finish(false, cancelled()); }
      form.addEventListener('submit', onSubmit);
      cancel.addEventListener('click', onCancelButton);
      d.addEventListener('cancel', onCancel);
      openDialog(d);
      input.focus();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Pagers: First, Previous, "Page X of Y", Next, Last. Buttons stay in place (and focused)
  // while their page loads; an unavailable one is aria-disabled.

  function makePager(nav, onGo) {
    var state = { page: 1, pages: 1 };
    var running = false;
    function btn(label, target) {
      return h('button', { type: 'button', 'data-go': label.toLowerCase(), text: label, on: { click: function (ev) {
        var b = ev.currentTarget;
        if (running || b.getAttribute('aria-disabled') === 'true') return;
        var page = target();
        running = true;
        [first, prev, next, last].forEach(function (x) { x.setAttribute('aria-disabled', 'true'); });
        Promise.resolve().then(function () { return onGo(page); }).catch(report).then(function () {
          running = false;
          refresh();
        });
      } } });
    }
    var first = btn('First', function () { return 1; });
    var prev = btn('Previous', function () { return state.page - 1; });
    var next = btn('Next', function () { return state.page + 1; });
    var last = btn('Last', function () { return state.pages; });
    var info = h('span', { class: 'page-of' });
    var range = h('span', { class: 'range' });
    add(nav, [first, prev, info, next, last, range]);
    function refresh() {
      var atStart = state.page <= 1, atEnd = state.page >= state.pages;
      [[first, atStart], [prev, atStart], [next, atEnd], [last, atEnd]].forEach(function (p) {
        if (p[1]) p[0].setAttribute('aria-disabled', 'true'); else p[0].removeAttribute('aria-disabled');
      });
      info.textContent = 'Page ' + state.page + ' of ' + state.pages;
      range.textContent = state.total ? 'Rows ' + state.from + '–' + state.to + ' of ' + state.total : '';
      nav.hidden = !state.total;
    }
    return {
      set: function (page, pages, from, to, total) {
        state = { page: page, pages: pages, from: from, to: to, total: total };
        if (!running) refresh();
      }
    };
  }

  function pageOf(offset, count, total, shown) {
    var pages = Math.max(1, Math.ceil(total / Math.max(1, count)));
    var page = Math.floor(offset / Math.max(1, count)) + 1;
    return { page: page, pages: pages, from: shown ? offset + 1 : 0, to: offset + shown, total: total };
  }

  // ------------------------------------------------------------------------------------------
  // Signing in and out

  function loadAuth() {
    try {
      var a = JSON.parse(sessionStorage.getItem(AUTH_KEY) || 'null');
      return a && a.userId && a.authToken ? a : null;
    } catch (e) { return null; }
  }
  function saveAuth() {
    try { sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth)); } catch (e) { /* private mode: this page only */ }
  }
  function forgetAuth() {
    auth = null;
    me = null;
    try { sessionStorage.removeItem(AUTH_KEY); sessionStorage.removeItem(TAB_KEY); } catch (e) { /* nothing kept */ }
  }

  var pendingLogin = null; // {user, password, method} between the password and the code

  function showSignin(message, asAlert) {
    closeDialog($('detail'));
    closeDialog($('confirm'));
    $('view-app').hidden = true;
    $('who').hidden = true;
    $('view-signin').hidden = false;
    showPasswordStep();
    if (message) { if (asAlert) showAlert(message); else setStatus(message); } else clearMessages();
    document.title = 'Sign in · Sessions API';
    $('signin-user').focus();
  }
  function showPasswordStep() {
    pendingLogin = null;
    $('code-form').hidden = true;
    $('signin-form').hidden = false;
    $('code-input').value = '';
  }
  function showCodeStep(details) {
    var method = (details && details.method) || 'totp';
    pendingLogin.method = method;
    var input = $('code-input');
    input.value = '';
    if (method === 'email') {
      $('code-label').textContent = 'Code from the email';
      $('code-help').textContent = details.codeGenerated
        ? 'Your account has two-factor authentication. We just emailed you a 6-digit code, valid for an hour: enter it here.'
        : 'Your account has two-factor authentication. Enter the 6-digit code we emailed you.';
      input.setAttribute('inputmode', 'numeric');
    } else if (method === 'password') {
      $('code-label').textContent = 'Your password again';
      $('code-help').textContent = 'Confirm it is you with your password.';
      input.removeAttribute('inputmode');
    } else {
      $('code-label').textContent = 'Code from your authenticator app';
      $('code-help').textContent = 'Your account has two-factor authentication. Enter the current code your authenticator app shows, or one of your 8-character backup codes.';
      input.removeAttribute('inputmode');
    }
    input.type = method === 'password' ? 'password' : 'text';
    $('signin-form').hidden = true;
    $('code-form').hidden = false;
    setStatus('Enter your second-factor code to finish signing in.');
    input.focus();
  }

  function login(code) {
    var body = { user: pendingLogin.user, password: pendingLogin.password };
    var opt = { anonymous: true, body: body, context: 'login' };
    if (code) { body.code = code; opt.method2fa = pendingLogin.method; }
    return request('POST', '/api/v1/login', opt).then(function (r) {
      var data = (r.body && r.body.data) || {};
      if (!data.userId || !data.authToken) throw new Problem('The server answered the sign-in in a way this page does not understand.', {});
      auth = { userId: data.userId, authToken: data.authToken,
        username: (data.me && data.me.username) || pendingLogin.user, name: (data.me && data.me.name) || '' };
      saveAuth();
      pendingLogin = null;
      $('signin-password').value = '';
      $('code-input').value = '';
      return enterApp(true);
    }, function (e) {
      if (e.code === 'totp-required') { showCodeStep(e.details); return; }
      if (e.code === 'totp-invalid' && code) {
        showAlert(e.message);
        $('code-input').value = '';
        $('code-input').focus();
        return;
      }
      if (e.code === 'totp-max-attempts') {
        showPasswordStep();
        $('signin-password').value = '';
        $('signin-password').focus();
      } else if (!code && e.status === 401) {
        $('signin-password').value = '';
        $('signin-password').focus();
      }
      throw e;
    });
  }

  function onSigninSubmit(ev) {
    ev.preventDefault();
    var user = $('signin-user').value.trim(), password = $('signin-password').value;
    if (!user || !password) {
      showAlert('Enter your username or email and your password.');
      (user ? $('signin-password') : $('signin-user')).focus();
      return;
    }
    act($('signin-submit'), function () {
      clearMessages();
      pendingLogin = { user: user, password: password, method: null };
      return login(null);
    });
  }
  function onCodeSubmit(ev) {
    ev.preventDefault();
    var raw = $('code-input').value;
    if (!raw.trim()) { showAlert('Enter the code.'); $('code-input').focus(); return; }
    if (!pendingLogin) { showPasswordStep(); return; }
    act($('code-submit'), function () {
      clearMessages();
      var code = pendingLogin.method === 'password' ? sha256hex(raw) : Promise.resolve(raw.replace(/\s+/g, ''));
      return code.then(login);
    });
  }

  function signedOutHere(message, asAlert) {
    forgetAuth();
    apiKey = '';
    currentSessionId = null;
    resetViews();
    showSignin(message, asAlert);
  }

  function signOut() {
    return act($('signout'), function () {
      return request('POST', '/api/v1/logout').then(function () {
        signedOutHere('You are signed out.', false);
      }, function (e) {
        if (e.handled) return;
        throw e;
      });
    });
  }

  function resetViews() {
    mine = { offset: 0, count: 50, total: 0, loaded: false };
    all = { offset: 0, count: Number($('all-size').value) || 10, sortKey: 'loginAt', sortDir: -1, filter: '', total: 0, loaded: false };
    audit = { page: 1, size: 20, filter: '', total: 0 };
    ['mine-rows', 'all-rows', 'audit-rows'].forEach(function (id) { clear($(id)); });
    ['mine-empty', 'all-empty', 'audit-empty'].forEach(function (id) { $(id).hidden = true; });
    ['mine-pager', 'all-pager', 'audit-pager'].forEach(function (id) { $(id).hidden = true; });
    $('audit-wrap').hidden = true;
    $('audit-key').value = '';
    $('audit-filter').value = '';
    $('all-filter').value = '';
    $('lookup-id').value = '';
    $('tab-all').hidden = true;
    $('tab-audit').hidden = true;
  }

  // After a sign-in (fresh) or a reload with a kept token: who the caller is, which views it may see.
  function enterApp(fresh) {
    $('view-signin').hidden = true;
    $('view-app').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = auth.name ? auth.name + ' (' + auth.username + ')' : auth.username;
    document.title = 'Devices · Sessions API';
    if (fresh) setStatus('Signed in as ' + (auth.username || 'you') + '.');
    return request('GET', '/api/v1/me').then(function (r) {
      me = r.body || {};
      if (me.username) auth.username = me.username;
      if (me.name) auth.name = me.name;
      saveAuth();
      $('who-name').textContent = auth.name ? auth.name + ' (' + auth.username + ')' : auth.username;
      return mayAdminister(me);
    }).then(function (admin) {
      $('tab-all').hidden = !admin;
      $('tab-audit').hidden = !admin;
      var wanted = null;
      try { wanted = sessionStorage.getItem(TAB_KEY); } catch (e) { wanted = null; }
      if (!wanted || !$(wanted) || $(wanted).hidden) wanted = 'tab-mine';
      return selectTab(wanted, false).then(function () {
        if (fresh) $(wanted === 'tab-mine' ? 'mine-title' : wanted === 'tab-all' ? 'all-title' : 'audit-title').focus();
      });
    });
  }

  // Whether the caller may list every device: an admin (the permission's default role), or,
  // for other roles, the answer of list.all without a code (403: no; anything else: yes).
  function mayAdminister(who) {
    var roles = (who && who.roles) || [];
    if (roles.indexOf('admin') >= 0) return Promise.resolve(true);
    return request('GET', '/api/v1/sessions/list.all', { query: { count: 0 } }).then(function () { return true; }, function (e) {
      if (e.handled) throw e;
      return e.code === 'totp-required' || e.code === 'totp-max-attempts';
    });
  }

  // ------------------------------------------------------------------------------------------
  // Tabs

  var TABS = { 'tab-mine': 'panel-mine', 'tab-all': 'panel-all', 'tab-audit': 'panel-audit' };
  function visibleTabs() {
    return Object.keys(TABS).map($).filter(function (t) { return !t.hidden; });
  }
  function selectTab(id, focusTab) {
    Object.keys(TABS).forEach(function (t) {
      var on = t === id;
      $(t).setAttribute('aria-selected', on ? 'true' : 'false');
      $(t).tabIndex = on ? 0 : -1;
      $(TABS[t]).hidden = !on;
    });
    if (focusTab) $(id).focus();
    try { sessionStorage.setItem(TAB_KEY, id); } catch (e) { /* not kept */ }
    if (id === 'tab-mine' && !mine.loaded) return act($('mine-refresh'), loadMine);
    if (id === 'tab-all' && !all.loaded) return act($('all-refresh'), loadAll);
    if (id === 'tab-audit') return Promise.resolve().then(function () { if (!apiKey) $('audit-key').focus(); });
    return Promise.resolve();
  }
  function onTabKey(ev) {
    var tabs = visibleTabs(), i = tabs.indexOf(document.activeElement), j = -1;
    if (i < 0) return;
    if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = tabs.length - 1;
    if (j < 0) return;
    ev.preventDefault();
    clearMessages();
    selectTab(tabs[j].id, true);
  }

  // ------------------------------------------------------------------------------------------
  // My devices

  function loadMine() {
    return request('GET', '/api/v1/sessions/list', { query: { offset: mine.offset, count: mine.count } }).then(function (r) {
      var b = r.body || {}, rows = b.sessions || [];
      mine.total = b.total || 0;
      mine.loaded = true;
      if (!rows.length && mine.total > 0 && mine.offset > 0) {
        mine.offset = Math.max(0, (Math.ceil(mine.total / mine.count) - 1) * mine.count);
        return loadMine();
      }
      rows.forEach(function (s) { if (s.current) currentSessionId = s.sessionId; });
      var body = $('mine-rows');
      clear(body);
      $('mine-table').classList.toggle('no-geo', !rows.some(place));
      rows.forEach(function (s) { body.appendChild(mineRow(s)); });
      $('mine-empty').hidden = rows.length > 0;
      var p = pageOf(mine.offset, mine.count, mine.total, rows.length);
      pagers.mine.set(p.page, p.pages, p.from, p.to, p.total);
      $('mine-pager').hidden = p.pages <= 1;
      $('mine-caption').textContent = 'Devices signed in to your account, newest first: ' + mine.total +
        (mine.total === 1 ? ' session' : ' sessions');
      return loadPreferences();
    });
  }

  function mineRow(s) {
    var tr = h('tr', { 'data-session-id': s.sessionId, class: s.current ? 'current' : null });
    add(tr, [
      td('Device', [deviceType(s.device), s.current ? h('span', { class: 'badge', text: 'This device' }) : null]),
      td('Browser or app', client(s.device)),
      td('Operating system', osText(s.device)),
      td('Location', place(s) || h('span', { class: 'muted', text: 'Unknown' }), 'col-geo'),
      td('IP address', s.ip || 'Unknown', 'ip'),
      td('Signed in', timeEl(s.loginAt)),
      td('Last active', s.lastActivityAt ? timeEl(s.lastActivityAt) : h('span', { class: 'muted', text: 'Unknown' })),
      td('Risk', riskEl(s.risk))
    ]);
    var button;
    if (s.current) {
      button = h('button', { type: 'button', on: { click: function () { signOut(); } } }, 'Sign out', vh(' of this device'));
    } else {
      button = h('button', { type: 'button', class: 'end', on: { click: function (ev) { endMine(s, ev.currentTarget); } } },
        'End', vh(' session: ' + describe(s) + ', signed in ' + timeText(s.loginAt)));
    }
    tr.appendChild(td('Actions', h('div', { class: 'row-actions' }, button), 'actions-cell'));
    return tr;
  }

  function endMine(s, button) {
    if (button.getAttribute('aria-disabled') === 'true') return;
    confirmDialog('End this session?', describe(s) + ', signed in ' + timeText(s.loginAt) + ', is signed out at once.', 'End session')
      .then(function (yes) {
        if (!yes) return;
        return act(button, function () {
          return request('POST', '/api/v1/sessions/logout.me', { body: { sessionId: s.sessionId } }).then(function () {
            return loadMine().then(function () {
              setStatus('Session ended: ' + describe(s) + ' is signed out.');
              $('mine-title').focus();
            });
          }, function (e) {
            if (e.status === 404) return loadMine().then(function () { throw e; });
            throw e;
          });
        });
      });
  }

  function othersOut() {
    var button = $('others-out');
    if (button.getAttribute('aria-disabled') === 'true') return;
    confirmDialog('Sign out everywhere else?',
      'Every other device signed in to your account is signed out at once. This device stays signed in.', 'Sign out the others')
      .then(function (yes) {
        if (!yes) return;
        return act(button, function () {
          return request('POST', '/api/v1/users.logoutOtherClients').then(function (r) {
            if (r.body && typeof r.body.token === 'string' && r.body.token) { auth.authToken = r.body.token; saveAuth(); }
            mine.offset = 0;
            return loadMine().then(function () { setStatus('Every other device is signed out.'); });
          });
        });
      });
  }

  var prefBusy = false;
  function loadPreferences() {
    var box = $('pref-email');
    return request('GET', '/api/v1/users.getPreferences').then(function (r) {
      var p = (r.body && r.body.preferences) || {};
      box.checked = p.receiveLoginDetectionEmail !== false && p.receiveLoginDetectionEmail !== 'false';
    }, function (e) {
      if (e.code === 'preferences-not-set') { box.checked = true; return; }
      throw e;
    });
  }
  function onPreferenceChange() {
    var box = $('pref-email'), want = box.checked;
    if (prefBusy) { box.checked = !want; return; }
    prefBusy = true;
    box.setAttribute('aria-disabled', 'true');
    request('POST', '/api/v1/users.setPreferences', { body: { data: { receiveLoginDetectionEmail: want } } }).then(function () {
      setStatus(want ? 'New-login emails are on: you get an email when a new device signs in.'
        : 'New-login emails are off. A sign-in flagged as unusual is still emailed.');
    }, function (e) {
      box.checked = !want;
      report(e);
    }).then(function () {
      prefBusy = false;
      box.removeAttribute('aria-disabled');
    });
  }

  // ------------------------------------------------------------------------------------------
  // All devices (administrators, behind step-up 2FA)

  function escapeRegex(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  function loadAll() {
    var sort = {};
    sort[all.sortKey] = all.sortDir;
    var query = { offset: all.offset, count: all.count, sort: JSON.stringify(sort) };
    if (all.filter) query.filter = escapeRegex(all.filter);
    return adminCall('GET', '/api/v1/sessions/list.all', { query: query }).then(function (r) {
      var b = r.body || {}, rows = b.sessions || [];
      all.total = b.total || 0;
      if (!rows.length && all.offset > 0 && all.total > 0) {
        // Sessions ended meanwhile: the page is past the end; show the last one.
        var lastOffset = Math.max(0, (Math.ceil(all.total / all.count) - 1) * all.count);
        if (lastOffset < all.offset) { all.offset = lastOffset; return loadAll(); }
      }
      all.loaded = true;
      var body = $('all-rows');
      clear(body);
      rows.forEach(function (s) { body.appendChild(allRow(s)); });
      $('all-empty').textContent = all.filter ? 'No session matches "' + all.filter + '".' : 'No device is signed in.';
      $('all-empty').hidden = rows.length > 0;
      updateSortHeaders();
      var p = pageOf(all.offset, all.count, all.total, rows.length);
      pagers.all.set(p.page, p.pages, p.from, p.to, p.total);
      $('all-caption').textContent = (all.filter ? 'Sessions matching "' + all.filter + '"' : "Every user's signed-in devices") +
        ', sorted by ' + sortLabel() + ': ' + all.total + (all.total === 1 ? ' session' : ' sessions') +
        ', page ' + p.page + ' of ' + p.pages;
    }, function (e) {
      if (e && e.cancelled && !all.loaded) {
        $('all-empty').textContent = 'Nothing is shown until you confirm it is you: press Refresh to try again.';
        $('all-empty').hidden = false;
      }
      throw e;
    });
  }

  function sortLabel() {
    for (var i = 0; i < SORTS.length; i++) {
      if (SORTS[i][0] === all.sortKey && SORTS[i][1] === all.sortDir) return SORTS[i][2].charAt(0).toLowerCase() + SORTS[i][2].slice(1);
    }
    return all.sortKey;
  }

  function updateSortHeaders() {
    Array.prototype.forEach.call(document.querySelectorAll('#all-table th[data-sort]'), function (th) {
      if (th.getAttribute('data-sort') === all.sortKey) th.setAttribute('aria-sort', all.sortDir === 1 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    $('all-sort').value = all.sortKey + ':' + all.sortDir;
  }

  function resort(key, dir, control) {
    var before = { key: all.sortKey, dir: all.sortDir, offset: all.offset };
    all.sortKey = key;
    all.sortDir = dir;
    all.offset = 0;
    return act(control, function () {
      return loadAll().then(function () {
        setStatus('Sorted by ' + sortLabel() + '.');
      }, function (e) {
        all.sortKey = before.key; all.sortDir = before.dir; all.offset = before.offset;
        updateSortHeaders();
        throw e;
      });
    });
  }

  function onSortClick(ev) {
    var b = ev.currentTarget, key = b.getAttribute('data-key');
    var dir = key === all.sortKey ? -all.sortDir : (key === 'loginAt' ? -1 : 1);
    resort(key, dir, b);
  }

  function allRow(s) {
    var user = s._user || {};
    var isCurrent = s.sessionId === currentSessionId;
    var tr = h('tr', { 'data-session-id': s.sessionId, class: isCurrent ? 'current' : null });
    add(tr, [
      td('Name', [user.name || h('span', { class: 'muted', text: 'No name' }),
        isCurrent ? h('span', { class: 'badge', text: 'This device' }) : null]),
      td('Username', user.username || s.userId || 'Unknown', 'username'),
      td('Browser or app', [client(s.device), h('span', { class: 'sub', text: deviceType(s.device) })]),
      td('Operating system', osName(s.device)),
      td('OS version', (s.device && s.device.os && s.device.os.version) || h('span', { class: 'muted', text: 'Unknown' })),
      td('IP address', s.ip || 'Unknown', 'ip'),
      td('Signed in', timeEl(s.loginAt)),
      td('Risk', riskEl(s.risk))
    ]);
    var who = (user.username || s.userId) + ', ' + describe(s);
    var details = h('button', { type: 'button', class: 'details', on: { click: function (ev) {
      var b = ev.currentTarget;
      act(b, function () { return openDetail(s.sessionId, b); });
    } } }, 'Details', vh(' of the session of ' + who));
    var end = h('button', { type: 'button', class: 'end', on: { click: function (ev) { endAny(s, ev.currentTarget); } } },
      'End', vh(' session of ' + who));
    tr.appendChild(td('Actions', h('div', { class: 'row-actions' }, details, end), 'actions-cell'));
    return tr;
  }

  function endAny(s, button, afterwards) {
    if (button.getAttribute('aria-disabled') === 'true') return Promise.resolve();
    var user = s._user || {};
    var own = s.sessionId === currentSessionId;
    var text = (user.username ? user.username + ' on ' : '') + describe(s) + ' is signed out at once.' +
      (own ? ' This is the device you are using: you will be signed out too.' : '');
    return confirmDialog('End this session?', text, 'End session').then(function (yes) {
      if (!yes) return;
      return act(button, function () {
        return adminCall('POST', '/api/v1/sessions/logout', { body: { sessionId: s.sessionId } }).then(function () {
          setStatus('Session ended: ' + (user.username ? user.username + ' on ' : '') + describe(s) + ' is signed out.');
          if (afterwards) return afterwards();
          return loadAll().then(function () { $('all-title').focus(); });
        }, function (e) {
          if (e.status === 404 && !afterwards) return loadAll().then(function () { throw e; });
          throw e;
        });
      });
    });
  }

  // The detail dialog: GET info.admin, live or ended (logoutAt, logoutBy).
  var detailOpener = null;
  var detailShown = null;
  function openDetail(sessionId, opener) {
    return adminCall('GET', '/api/v1/sessions/info.admin', { query: { sessionId: sessionId } }).then(function (r) {
      detailOpener = opener || document.activeElement;
      renderDetail(r.body || {});
      openDialog($('detail'));
      $('detail-close').focus();
    });
  }

  function fact(list, term, value) {
    if (value === undefined || value === null || value === '') return;
    add(list, [h('dt', { text: term }), h('dd', null, value)]);
  }

  function renderDetail(s) {
    detailShown = s;
    var user = s._user || {};
    var d = s.device || null;
    var ended = !!s.logoutAt;
    $('detail-title').textContent = 'Session of ' + (user.name || user.username || s.userId || 'an unknown user');
    var state = $('detail-state');
    state.classList.toggle('ended', ended);
    if (ended) {
      var by = !s.logoutBy ? 'the system (it expired, idled out, or its account was deactivated)'
        : s.logoutBy === (auth && auth.userId) ? 'you' : s.logoutBy;
      state.textContent = 'Ended ' + timeText(s.logoutAt) + ', by ' + by + '.';
    } else {
      state.textContent = s.sessionId === currentSessionId ? 'Signed in: this is the device you are using.' : 'Signed in.';
    }
    var list = $('detail-facts');
    clear(list);
    fact(list, 'Name', user.name);
    fact(list, 'Username', user.username);
    fact(list, 'User id', s.userId);
    fact(list, 'Session id', s.sessionId || s._id);
    if (d) {
      fact(list, 'Device', deviceType(d));
      fact(list, 'Browser or app', d.name ? d.name + (d.longVersion ? ' ' + d.longVersion : d.version ? ' ' + d.version : '') : 'Unknown');
      fact(list, 'Operating system', osText(d));
    }
    fact(list, 'IP address', s.ip);
    fact(list, 'Host', s.host);
    fact(list, 'Location', place(s));
    if (s.loginAt) fact(list, 'Signed in', timeEl(s.loginAt));
    if (s.lastActivityAt) fact(list, 'Last active', timeEl(s.lastActivityAt));
    if (s.risk) fact(list, 'Risk', riskEl(s.risk));
    if (s.risk && s.risk.previousSessionId) fact(list, 'Previous session', s.risk.previousSessionId);
    if (ended) {
      fact(list, 'Ended', timeEl(s.logoutAt));
      fact(list, 'Ended by', s.logoutBy ? (s.logoutBy === (auth && auth.userId) ? 'You (' + s.logoutBy + ')' : s.logoutBy) : 'The system');
    }
    $('detail-end').hidden = ended;
  }

  function endFromDetail() {
    var s = detailShown, id = s && (s.sessionId || s._id);
    if (!id) return;
    endAny(s, $('detail-end'), function () {
      return adminCall('GET', '/api/v1/sessions/info.admin', { query: { sessionId: id } }).then(function (r) {
        // Right after an end by id the answer may hold only the end: keep what was shown.
        renderDetail(Object.assign({}, s, r.body || {}));
        $('detail-close').focus();
        if (all.loaded) loadAll().catch(report);
      });
    });
  }

  // ------------------------------------------------------------------------------------------
  // Audit log (MonoCloud's GET /api/logs with an API key, kept in memory only)

  function pagination(headers) {
    try { return JSON.parse(headers.get('X-Pagination') || 'null') || {}; } catch (e) { return {}; }
  }

  function loadAudit() {
    var query = { page: audit.page, size: audit.size };
    if (audit.filter) query.filter = audit.filter;
    return request('GET', '/api/logs', { apiKey: apiKey, query: query, context: 'apikey' }).then(function (r) {
      var rows = Array.isArray(r.body) ? r.body : [];
      var pg = pagination(r.headers);
      audit.total = typeof pg.total_count === 'number' ? pg.total_count : rows.length;
      var size = pg.page_size || audit.size, page = pg.current_page || audit.page;
      var pages = Math.max(1, Math.ceil(audit.total / size));
      if (!rows.length && audit.total > 0 && page > pages) { audit.page = pages; return loadAudit(); }
      var body = $('audit-rows');
      clear(body);
      rows.forEach(function (entry) { body.appendChild(auditRow(entry)); });
      $('audit-wrap').hidden = false;
      $('audit-empty').hidden = rows.length > 0;
      var from = rows.length ? (page - 1) * size + 1 : 0;
      pagers.audit.set(page, pages, from, from ? from + rows.length - 1 : 0, audit.total);
      $('audit-caption').textContent = 'Audit log entries' + (audit.filter ? ' matching ' + audit.filter : '') +
        ', newest first: ' + audit.total + (audit.total === 1 ? ' entry' : ' entries') + ', page ' + page + ' of ' + pages;
    });
  }

  function party(p) {
    if (!p || typeof p !== 'object') return 'Unknown';
    switch (p.type) {
      case 'user': return p.identifier ? (p.name && p.name !== p.identifier ? p.name + ' (' + p.identifier + ')' : p.identifier) : (p.id || 'a user');
      case 'user_session': return 'session ' + (p.id || '');
      case 'user_identifier': return 'an unknown login name';
      case 'api_key': return 'API key ' + (p.name || p.id || '');
      case 'system': return 'The system';
      case 'unknown': return 'Unknown';
      default: return String(p.type || 'Unknown') + (p.id ? ' ' + p.id : '');
    }
  }
  var RESULTS = { success: 'Succeeded', failure: 'Failed', information: 'Information' };

  function auditRow(e) {
    var req = e.request || {};
    var ip = req.remote_ip && req.remote_ip.ip;
    var loc = req.location ? [req.location.city, req.location.country].filter(Boolean).join(', ') : '';
    var reason = e.details && (e.details.reason || (e.details.device && client(e.details.device)));
    return h('tr', { 'data-log-id': e.id },
      td('Time', timeEl((e.time_stamp || 0) * 1000)),
      td('Event', [e.name || e.code || 'Unknown', e.code ? h('span', { class: 'sub', text: e.code }) : null]),
      td('Result', RESULTS[e.type] || e.type || 'Unknown'),
      td('By', party(e.actor)),
      td('About', (e.targets || []).map(party).join('; ') || 'Nothing'),
      td('From', [ip || h('span', { class: 'muted', text: 'Unknown' }), loc ? h('span', { class: 'sub', text: loc }) : null]),
      td('Details', reason || e.description || h('span', { class: 'muted', text: 'None' })));
  }

  function onAuditSubmit(ev) {
    ev.preventDefault();
    var key = $('audit-key').value.trim();
    if (!key) { showAlert('Paste an API key first.'); $('audit-key').focus(); return; }
    apiKey = key;
    audit.filter = $('audit-filter').value.trim();
    audit.page = 1;
    act(ev.submitter || $('audit-form').querySelector('button[type="submit"]'), function () {
      clearMessages();
      return loadAudit().then(function () { setStatus('Audit log: ' + audit.total + (audit.total === 1 ? ' entry.' : ' entries.')); });
    });
  }
  function forgetKey() {
    apiKey = '';
    $('audit-key').value = '';
    clear($('audit-rows'));
    $('audit-wrap').hidden = true;
    $('audit-empty').hidden = true;
    $('audit-pager').hidden = true;
    setStatus('The API key is forgotten.');
    $('audit-key').focus();
  }

  // ------------------------------------------------------------------------------------------
  // Wiring

  function boot() {
    $('signin-form').addEventListener('submit', onSigninSubmit);
    $('code-form').addEventListener('submit', onCodeSubmit);
    $('code-back').addEventListener('click', function () { showPasswordStep(); clearMessages(); $('signin-password').focus(); });
    $('signout').addEventListener('click', signOut);

    Object.keys(TABS).forEach(function (t) {
      $(t).addEventListener('click', function () { clearMessages(); selectTab(t, false); });
    });
    document.querySelector('[role="tablist"]').addEventListener('keydown', onTabKey);

    $('mine-refresh').addEventListener('click', function (ev) { act(ev.currentTarget, loadMine); });
    $('others-out').addEventListener('click', othersOut);
    $('pref-email').addEventListener('change', onPreferenceChange);

    $('all-refresh').addEventListener('click', function (ev) { act(ev.currentTarget, loadAll); });
    Array.prototype.forEach.call(document.querySelectorAll('#all-table button.sort'), function (b) {
      b.addEventListener('click', onSortClick);
    });
    var sortSelect = $('all-sort');
    SORTS.forEach(function (s) { sortSelect.appendChild(h('option', { value: s[0] + ':' + s[1], text: s[2] })); });
    sortSelect.addEventListener('change', function () {
      var v = sortSelect.value, i = v.lastIndexOf(':');
      resort(v.slice(0, i), Number(v.slice(i + 1)), sortSelect);
    });
    $('all-size').addEventListener('change', function (ev) {
      all.count = Number(ev.currentTarget.value) || 10;
      all.offset = 0;
      act(ev.currentTarget, loadAll);
    });
    $('all-filter-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      all.filter = $('all-filter').value.trim();
      all.offset = 0;
      act(ev.submitter || $('all-filter-form').querySelector('button[type="submit"]'), function () {
        return loadAll().then(function () {
          setStatus(all.filter ? all.total + (all.total === 1 ? ' session matches' : ' sessions match') + ' "' + all.filter + '".'
            : 'Filter cleared: ' + all.total + ' sessions.');
        });
      });
    });
    $('all-filter-clear').addEventListener('click', function (ev) {
      $('all-filter').value = '';
      if (!all.filter) return;
      all.filter = '';
      all.offset = 0;
      act(ev.currentTarget, function () { return loadAll().then(function () { setStatus('Filter cleared: ' + all.total + ' sessions.'); }); });
    });
    $('lookup-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var id = $('lookup-id').value.trim();
      if (!id) { showAlert('Enter a session id.'); $('lookup-id').focus(); return; }
      var b = ev.submitter || $('lookup-form').querySelector('button[type="submit"]');
      act(b, function () { clearMessages(); return openDetail(id, b); });
    });

    $('detail-close').addEventListener('click', function () { closeDialog($('detail')); });
    $('detail-end').addEventListener('click', endFromDetail);
    $('detail').addEventListener('close', function () {
      if (detailOpener && detailOpener.isConnected && typeof detailOpener.focus === 'function') detailOpener.focus();
      detailOpener = null;
    });

    $('audit-form').addEventListener('submit', onAuditSubmit);
    $('audit-forget').addEventListener('click', forgetKey);

    pagers.mine = makePager($('mine-pager'), function (page) { mine.offset = (page - 1) * mine.count; return loadMine(); });
    pagers.all = makePager($('all-pager'), function (page) {
      all.offset = (page - 1) * all.count;
      return loadAll().then(function () {
        var at = pageOf(all.offset, all.count, all.total, 0);
        setStatus('Page ' + at.page + ' of ' + at.pages + '.');
      });
    });
    pagers.audit = makePager($('audit-pager'), function (page) { audit.page = page; return loadAudit(); });
    all.count = Number($('all-size').value) || 10;

    auth = loadAuth();
    if (!auth) { showSignin(); return; }
    enterApp(false).catch(report);
  }

  boot();
})();
