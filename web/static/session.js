// The login session's idle timeout, kinder with JavaScript (without it the server still ends
// the session after its idle timeout, and nothing else changes):
// - two minutes before the session idles out, a dialog says so and "Fortsätt vara inloggad"
//   posts to the keep-alive (WCAG 2.2.1); typing on a page counts as activity and keeps the
//   session alive by itself;
// - every tab of the browser shares what it knows of the session's last activity
//   (localStorage), so activity in one tab keeps the others from warning;
// - when the session has ended (the timer ran out, or a save was answered 401), the values of
//   every changed field of the page are kept in this tab (sessionStorage, never sent anywhere)
//   and the user is sent to log in; back on the page, they are filled in again and a notice
//   says so. Texts come from the page (data attributes), in the user's language.
(function () {
  "use strict";
  var body = document.body;
  var ENDED_KEY = "halsoval.session.ended";  // sessionStorage: why this tab was logged out
  var DRAFT_PREFIX = "halsoval.draft:";       // sessionStorage: + user + ":" + path
  var LOW_KEY = "halsoval.session.seenLow";   // localStorage: the server's last_seen_at is
  var HIGH_KEY = "halsoval.session.seenHigh"; // somewhere between these (ms since 1970)
  var MARGIN = 2000;  // act this long after the server has surely ended the session
  var TICK = 15000;   // look again at least this often (clocks jump, tabs sleep)
  var notice = document.getElementById("session-notice");
  var loginUrl = body.getAttribute("data-login-url") || "/logga-in";
  var user = body.getAttribute("data-session-user");

  function storage(kind) {
    try {
      var s = window[kind];
      s.setItem("halsoval.probe", "1");
      s.removeItem("halsoval.probe");
      return s;
    } catch (e) { return null; }
  }
  var local = storage("localStorage");
  var tab = storage("sessionStorage");
  function readJSON(s, key) {
    if (!s) { return null; }
    try { return JSON.parse(s.getItem(key)); } catch (e) { return null; }
  }
  function writeJSON(s, key, value) {
    if (!s) { return false; }
    try { s.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function text(name) { return (notice && notice.getAttribute("data-" + name)) || ""; }
  function el(tag, content, className) {
    var node = document.createElement(tag);
    if (content) { node.textContent = content; }
    if (className) { node.className = className; }
    return node;
  }
  // The notice becomes a status region first and gets its text a moment later, so that
  // screen readers announce it (a region that arrives with its text is often not read).
  function say(nodes) {
    if (!notice) { return; }
    notice.setAttribute("role", "status");
    window.setTimeout(function () {
      var box = el("div", "", "flash flash-info");
      nodes.forEach(function (node) { box.appendChild(node); });
      notice.textContent = "";
      notice.appendChild(box);
    }, 50);
  }
  function squash(s) { return (s || "").replace(/\s+/g, " ").trim(); }

  // --- logged out: the login page says why -----------------------------------------------
  if (!user) {
    var ended = readJSON(tab, ENDED_KEY);
    if (ended && location.pathname === loginUrl) {
      var nodes = [el("p", text(ended.reason === "idle" ? "logged-out-idle" : "logged-out"))];
      if (ended.draft) { nodes.push(el("p", text("draft-kept"))); }
      say(nodes);
    }
    return;
  }

  // --- what the user typed: kept at the end, filled in again afterwards -------------------
  function draftKey(path) { return DRAFT_PREFIX + user + ":" + path; }
  function formKey(form, index) { return form.id ? "#" + form.id : String(index); }
  function findForm(key) {
    return key.charAt(0) === "#" ? document.getElementById(key.slice(1)) : document.forms[+key] || null;
  }
  function named(form, name) {
    return Array.prototype.filter.call(form.elements, function (e) { return e.name === name; });
  }
  function isChoice(e) { return e.type === "checkbox" || e.type === "radio"; }
  function keepable(e) {
    var type = (e.type || "").toLowerCase();
    if (!e.name || e.disabled || e.name === "csrf_token") { return false; }
    if (/^(password|file|hidden|submit|button|reset|image)$/.test(type)) { return false; }
    if (e.closest("#session-warning")) { return false; }
    // As the server's error pages: nothing password-like, whatever its type.
    return !/password|passwd|lösenord|losenord/.test(e.name.toLowerCase());
  }
  // How the field is named on the page: its item's question, its group's legend, its label.
  function describe(e) {
    var parts = [];
    var group = e.closest("[data-draft-group]");
    var legend = group && group.querySelector("legend");
    if (legend) { parts.push(squash(legend.textContent)); }
    var set = e.closest("fieldset");
    if (isChoice(e) && set && set !== group) {
      var inner = set.querySelector("legend");
      if (inner) { parts.push(squash(inner.textContent)); }
    }
    var own = (e.labels && e.labels[0] && e.labels[0].textContent) || e.getAttribute("aria-label") || e.name;
    parts.push(squash(own));
    return parts.join(" – ");
  }
  function selected(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected; });
  }

  // Every field whose value differs from the one the page came with; with it, the hidden
  // fields of its [data-draft-group] (a checklist item's version), so that a restored answer
  // is saved against the version it was typed on and a colleague's change meanwhile is seen.
  function changedFields() {
    var out = [];
    Array.prototype.forEach.call(document.forms, function (form, index) {
      var key = formKey(form, index);
      var groups = [];
      Array.prototype.forEach.call(form.elements, function (e) {
        if (!keepable(e)) { return; }
        var entry = null;
        if (isChoice(e)) {
          if (e.checked !== e.defaultChecked) { entry = { kind: "checked", value: e.value, checked: e.checked, shown: e.checked ? "✓" : "–" }; }
        } else if (e.tagName === "SELECT") {
          var changed = Array.prototype.some.call(e.options, function (o) { return o.selected !== o.defaultSelected; });
          if (changed) {
            var chosen = selected(e);
            entry = {
              kind: "options",
              values: chosen.map(function (o) { return o.value; }),
              shown: chosen.map(function (o) { return squash(o.textContent); }).join(", ")
            };
          }
        } else if (e.value !== e.defaultValue) {
          entry = { kind: "value", value: e.value, shown: e.value };
        }
        if (!entry) { return; }
        var group = e.closest("[data-draft-group]");
        entry.form = key;
        entry.name = e.name;
        entry.label = describe(e);
        entry.group = group ? group.id : null;
        out.push(entry);
        if (group && group.id && groups.indexOf(group) < 0) { groups.push(group); }
      });
      groups.forEach(function (group) {
        group.querySelectorAll("input[type='hidden'][name]").forEach(function (h) {
          if (h.name === "csrf_token" || h.form !== form) { return; }
          out.push({ kind: "hidden", form: key, name: h.name, value: h.value, group: group.id });
        });
      });
    });
    return out;
  }

  // Fill one kept value in; "same" when the page already shows it (it was saved after all).
  function fill(entry) {
    var form = findForm(entry.form);
    var fields = form ? named(form, entry.name) : [];
    var target = null;
    if (entry.kind === "checked") {
      target = fields.filter(function (e) { return isChoice(e) && e.value === entry.value; })[0];
      if (!target || target.disabled) { return null; }
      if (target.defaultChecked === entry.checked) { return "same"; }
      target.checked = entry.checked;
    } else if (entry.kind === "options") {
      target = fields.filter(function (e) { return e.tagName === "SELECT"; })[0];
      if (!target || target.disabled) { return null; }
      var wanted = entry.values || [];
      var same = Array.prototype.every.call(target.options, function (o) {
        return o.defaultSelected === (wanted.indexOf(o.value) >= 0);
      });
      if (same) { return "same"; }
      Array.prototype.forEach.call(target.options, function (o) { o.selected = wanted.indexOf(o.value) >= 0; });
      if (selected(target).length !== wanted.length) { return null; }
    } else {
      target = fields.filter(function (e) { return !isChoice(e) && e.tagName !== "SELECT"; })[0];
      if (!target || target.disabled || target.readOnly) { return null; }
      if (target.defaultValue === entry.value) { return "same"; }
      target.value = entry.value;
    }
    // The page's own script sees the change (a checklist marks the item as not saved).
    target.dispatchEvent(new Event("input", { bubbles: true }));
    return target;
  }

  function restore() {
    var key = draftKey(location.pathname);
    var draft = readJSON(tab, key);
    if (tab) { tab.removeItem(key); }
    if (!draft || !draft.fields) { return; }
    var restored = [];
    var lost = [];
    var groups = {};
    draft.fields.forEach(function (entry) {
      if (entry.kind === "hidden") { return; }
      var target = fill(entry);
      if (target === "same") { return; }
      if (!target) { lost.push(entry); return; }
      restored.push({ entry: entry, target: target });
      if (entry.group) { groups[entry.group] = true; }
    });
    draft.fields.forEach(function (entry) {
      if (entry.kind !== "hidden" || !groups[entry.group]) { return; }
      var form = findForm(entry.form);
      var hidden = form ? named(form, entry.name)[0] : null;
      if (hidden && hidden.type === "hidden") { hidden.value = entry.value; }
    });
    if (!restored.length && !lost.length) { return; }
    var nodes = [];
    if (restored.length) {
      nodes.push(el("p", text("restored")));
      var list = el("ul");
      restored.forEach(function (r) {
        var item = el("li");
        if (r.target.id) {
          var link = el("a", r.entry.label);
          link.href = "#" + r.target.id;
          item.appendChild(link);
        } else {
          item.textContent = r.entry.label;
        }
        list.appendChild(item);
      });
      nodes.push(list);
    }
    if (lost.length) {
      nodes.push(el("p", text("not-restored")));
      var facts = el("dl", "", "facts typed-text");
      lost.forEach(function (entry) {
        facts.appendChild(el("dt", entry.label));
        facts.appendChild(el("dd", entry.shown, "prewrap"));
      });
      nodes.push(facts);
    }
    say(nodes);
  }

  if (tab) {
    tab.removeItem(ENDED_KEY);
    // Drafts of anyone else who used this tab are not theirs to see.
    for (var i = tab.length - 1; i >= 0; i--) {
      var k = tab.key(i);
      if (k && k.indexOf(DRAFT_PREFIX) === 0 && k.indexOf(draftKey("")) !== 0) { tab.removeItem(k); }
    }
  }
  restore();

  // --- the timer ----------------------------------------------------------------------------
  var timeout = +body.getAttribute("data-idle-timeout") * 1000;
  var touch = +body.getAttribute("data-touch-interval") * 1000;
  var warnBefore = +body.getAttribute("data-warn-before") * 1000;
  var loaded = Date.now();
  var expiresAt = loaded + (+body.getAttribute("data-expires-in")) * 1000;
  var dialog = document.getElementById("session-warning");
  if (!timeout || !dialog) { return; }
  var dialogForm = dialog.querySelector("form");
  var dialogButton = dialogForm.querySelector("button");
  var dialogError = document.getElementById("session-warning-error");
  var mine = { low: 0, high: 0 };
  var leaving = false;
  var pinging = false;
  var returnFocus = null;
  var timer = null;

  function bounds() {
    var low = local ? +local.getItem(LOW_KEY) || 0 : 0;
    var high = local ? +local.getItem(HIGH_KEY) || 0 : 0;
    return { low: Math.max(low, mine.low), high: Math.max(high, mine.high) };
  }
  // The server's last_seen_at lies between low and high; tell every tab.
  function noteSeen(low, high) {
    var now = bounds();
    mine.low = Math.max(now.low, low);
    mine.high = Math.max(now.high, high, mine.low);
    if (local) {
      try {
        local.setItem(LOW_KEY, String(mine.low));
        local.setItem(HIGH_KEY, String(mine.high));
      } catch (e) { /* private mode: this tab alone */ }
    }
  }
  // A page or answer that says how much of the idle timeout is left, as the server counted it
  // somewhere between ``sent`` and now (rounded down to whole seconds).
  function noteRemaining(sent, remaining) {
    var used = timeout - remaining * 1000;
    noteSeen(sent - used, Date.now() - used + 1000);
  }
  noteRemaining(loaded, +body.getAttribute("data-idle-remaining"));

  function showWarning() {
    if (dialog.open) { return; }
    returnFocus = document.activeElement;
    dialogError.hidden = true;
    dialogError.textContent = "";
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    dialogButton.focus();
  }
  function hideWarning() {
    if (!dialog.open) { return; }
    if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
    if (returnFocus && returnFocus.focus && document.contains(returnFocus)) { returnFocus.focus(); }
    returnFocus = null;
  }

  function logIn(reason) {
    if (leaving) { return; }
    leaving = true;
    window.clearTimeout(timer);
    var fields = changedFields();
    var kept = fields.length > 0 && writeJSON(tab, draftKey(location.pathname), { fields: fields });
    writeJSON(tab, ENDED_KEY, { reason: reason, draft: kept });
    location.assign(loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search));
  }
  // The reason a 401 gives: the server says why the session ended when it knows.
  function reasonOf(answer) {
    if (answer && answer.reason) { return answer.reason === "idle_timeout" ? "idle" : "ended"; }
    return Date.now() >= bounds().low + timeout ? "idle" : "ended";
  }

  function check() {
    window.clearTimeout(timer);
    if (leaving) { return; }
    var b = bounds();
    var now = Date.now();
    var idleEnd = b.high + timeout;
    if (now >= Math.min(idleEnd, expiresAt) + MARGIN) {
      // A keep-alive on its way may have kept the session: its answer decides.
      if (pinging) { timer = window.setTimeout(check, 250); return; }
      logIn(idleEnd <= expiresAt ? "idle" : "ended");
      return;
    }
    // The warning counts from the earliest the server may have seen the user; it offers
    // more time only when more can be had (the 12 hours after login cannot be extended).
    var warnAt = b.low + timeout - warnBefore;
    if (now >= warnAt && b.low + timeout < expiresAt) { showWarning(); } else { hideWarning(); }
    var next = Math.min(now >= warnAt ? Infinity : warnAt, Math.min(idleEnd, expiresAt) + MARGIN);
    timer = window.setTimeout(check, Math.max(250, Math.min(next - now, TICK)));
  }

  function keepAlive(fromDialog) {
    if (pinging || leaving) { return; }
    pinging = true;
    var sent = Date.now();
    fetch(dialogForm.action, {
      method: "POST",
      body: new FormData(dialogForm),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (answer) { return { status: response.status, body: answer }; });
    }).then(function (result) {
      if (result.status === 200 && result.body.ok) {
        noteRemaining(sent, result.body.idle_remaining);
        hideWarning();
        check();
      } else if (result.status === 401) {
        logIn(reasonOf(result.body));
      } else {
        throw new Error("keep-alive refused");
      }
    }).catch(function () {
      if (fromDialog) {
        dialogError.textContent = dialog.getAttribute("data-failed") || "";
        dialogError.hidden = false;
      }
    }).then(function () { pinging = false; });
  }

  dialogForm.addEventListener("submit", function (event) {
    event.preventDefault();
    keepAlive(true);
  });
  // Escape says "I am here" as clearly as the button does.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    keepAlive(true);
  });
  // Typing or choosing on the page is activity: the session is kept alive for it, at most
  // once per touch interval (the server would not note it more often anyway). Only "input":
  // "change" also fires when focus merely leaves a field — as when the warning takes it.
  function typed(event) {
    if (!event.isTrusted || leaving || dialog.contains(event.target)) { return; }
    if (Date.now() - bounds().high >= touch) { keepAlive(false); }
  }
  document.addEventListener("input", typed, true);
  window.addEventListener("storage", function (event) {
    if (event.key === LOW_KEY || event.key === HIGH_KEY) { check(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { check(); }
  });

  // For the page's other scripts (checklist.js): a request of theirs was answered (sent at
  // ``sent``), or was answered 401 (the session has ended: keep the typing, go log in).
  window.HalsovalSession = {
    contacted: function (sent) { noteSeen(sent - touch, Date.now()); check(); },
    ended: function (answer) { logIn(reasonOf(answer)); },
    leaving: function () { return leaving; }
  };
  check();
})();
