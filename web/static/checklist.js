// Checklist sections, better with JavaScript: each item saves on its own when the user leaves
// it (or ticks a choice, or presses its button) — a small request with that item alone; the
// evaluation or the error appears beside it; nothing reloads, focus and scroll stay. Uploads
// likewise. Without this file the section form posts normally and works the same.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form");
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  if (!form) { return; }
  var text = {
    saving: form.getAttribute("data-saving") || "",
    saved: form.getAttribute("data-saved") || "",
    failed: form.getAttribute("data-failed") || "",
    unsaved: form.getAttribute("data-unsaved") || "",
    invalid: form.getAttribute("data-invalid") || ""
  };
  var csrf = form.querySelector("input[name='csrf_token']").value;
  var state = {};  // item id -> {dirty, pending, busy, again}

  function itemOf(el) { return el && el.closest ? el.closest("fieldset[data-save-url]") : null; }
  function st(id) { return state[id] || (state[id] = { dirty: false, pending: false, busy: false, again: false }); }
  // A ticked box or radio button is a whole answer; a select (the reviewer's assessment) is
  // followed by its reason, like a text field.
  function isChoice(el) { return el.type === "checkbox" || el.type === "radio"; }

  function fields(fieldset) {
    var data = new FormData();
    data.append("csrf_token", csrf);
    fieldset.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.form !== form || el.type === "file" || el.disabled) { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    return data;
  }

  function setState(fieldset, message) {
    var out = fieldset.querySelector("[data-save-state]");
    if (out) { out.textContent = message; }
  }

  function clearErrors(fieldset) {
    fieldset.querySelectorAll("p.error[data-js]").forEach(function (p) { p.remove(); });
    fieldset.querySelectorAll("p.error:not([data-upload-error])").forEach(function (p) { p.remove(); });
    fieldset.querySelectorAll("[aria-invalid='true']").forEach(function (el) {
      if (el.type !== "file") { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
    });
    fieldset.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    fieldset.classList.remove("has-error");
    var conflict = fieldset.querySelector(".conflict");
    if (conflict) { conflict.remove(); }
  }

  function showErrors(fieldset, errors) {
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var target = document.getElementById(name) || document.getElementById(name + "-0") ||
        fieldset.querySelector("[name='" + name + "']");
      var p = document.createElement("p");
      p.className = "error";
      p.id = name + "-error";
      p.setAttribute("data-js", "");
      p.textContent = errors[name];
      if (target) {
        var holder = target.closest(".field") || target.parentNode;
        holder.classList.add("has-error");
        var lab = holder.querySelector("label, legend");
        if (lab && lab.parentNode === holder) { lab.insertAdjacentElement("afterend", p); } else { holder.insertBefore(p, holder.firstChild); }
        target.setAttribute("aria-invalid", "true");
        target.setAttribute("aria-describedby", p.id);
        first = first || target;
      } else {
        fieldset.insertBefore(p, fieldset.querySelector(".item-actions"));
      }
    });
    fieldset.classList.add("has-error");
    return first;
  }

  function updateCounts(body) {
    if (body.progress) {
      var bar = document.querySelector("[data-progress]");
      if (bar) {
        bar.value = body.progress.answered;
        var lab = document.querySelector("label[for='progress']");
        if (lab) { lab.textContent = lab.textContent.replace(/^\d+/, body.progress.answered); }
      }
    }
    if (body.section) {
      var count = document.querySelector("[data-section-count]");
      if (count) { count.textContent = count.textContent.replace(/^\d+/, body.section.answered); }
    }
  }

  function applySaved(fieldset, body) {
    var id = fieldset.getAttribute("data-item");
    if (body.version !== undefined) {
      var v = fieldset.querySelector("input[name='i" + id + "_version']");
      if (v) { v.value = body.version; }
    }
    if (body.orig) {
      var o = fieldset.querySelector("input[name='i" + id + "_orig']");
      if (o) { o.value = body.orig; }
    }
    var ev = fieldset.querySelector("[data-evaluation]");
    if (ev && body.html !== undefined) { ev.innerHTML = body.html; }
    updateCounts(body);
  }

  // Every answer tells the session timer (session.js) that the server saw the user; a 401 says
  // the login session has ended: the timer keeps what was typed in the browser and sends the
  // user to log in, and back here it is filled in again.
  function sessionEnded(result, sent) {
    var session = window.HalsovalSession;
    if (!session) { return false; }
    if (result.status === 401) { session.ended(result.body); return true; }
    session.contacted(sent);
    return false;
  }

  function save(fieldset) {
    var id = fieldset.getAttribute("data-item");
    var s = st(id);
    if (s.busy) { s.again = true; return; }
    s.busy = true;
    s.dirty = false;
    s.pending = false;
    setState(fieldset, text.saving);
    var sent = Date.now();
    fetch(fieldset.getAttribute("data-save-url"), {
      method: "POST",
      body: fields(fieldset),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (sessionEnded(result, sent)) { s.dirty = true; return; }
      clearErrors(fieldset);
      if (result.status === 200) {
        applySaved(fieldset, result.body);
        setState(fieldset, text.saved);
      } else if (result.status === 409 && result.body.conflict) {
        setState(fieldset, "");
        fieldset.querySelector(".item-actions").insertAdjacentHTML("beforebegin", result.body.conflict.html);
        var keep = fieldset.querySelector("[data-keep-mine]");
        if (keep) {
          keep.addEventListener("click", function (event) {
            event.preventDefault();
            var v = fieldset.querySelector("input[name='i" + id + "_version']");
            if (v) { v.value = result.body.conflict.version; }
            save(fieldset);
          });
          keep.focus();
        }
      } else if (result.body && result.body.errors) {
        // The error stands beside its field; focus stays where the user is (moving it
        // back would be a change of context the user did not ask for), and the item's live
        // region says that it was not saved.
        showErrors(fieldset, result.body.errors);
        setState(fieldset, text.invalid);
      } else {
        setState(fieldset, (result.body && result.body.message) || text.failed);
        s.dirty = true;
      }
    }).catch(function () {
      setState(fieldset, text.failed);
      s.dirty = true;
    }).then(function () {
      s.busy = false;
      if (s.again) { s.again = false; save(fieldset); }
    });
  }

  form.addEventListener("input", function (event) {
    reveal(event.target);  // also for an answer filled in again after a login (session.js)
    var fieldset = itemOf(event.target);
    if (fieldset && event.target.form === form) { st(fieldset.getAttribute("data-item")).dirty = true; }
  });
  // A choice saves at once. A text field saves when the user leaves it after editing, but not
  // while moving on within the answer's own group of fields ([data-group]: the denominator
  // after the numerator, the closing time after the opening time, the reason after the
  // assessment) — a half-typed answer is not refused before it is finished.
  function groupOf(el) { return (el.closest && el.closest("[data-group]")) || el; }
  // "Spara" and "Spara och fortsätt" post the whole section, which saves what is pending.
  function isFormButton(el) {
    return !!el && el.form === form && el.type === "submit" && !itemOf(el) && !el.hasAttribute("data-save-item");
  }
  // The idle-timeout warning (session.js) takes focus without the user leaving the item: that
  // is no reason to save it (the warning's own button, or the login that follows, decides).
  function inSessionWarning(el) { return !!(el && el.closest && el.closest("#session-warning")); }
  function savePending() {
    form.querySelectorAll("fieldset[data-save-url]").forEach(function (fieldset) {
      if (st(fieldset.getAttribute("data-item")).pending) { save(fieldset); }
    });
  }
  form.addEventListener("change", function (event) {
    var el = event.target;
    var fieldset = itemOf(el);
    if (!fieldset || el.form !== form || el.type === "file") { return; }
    reveal(el);
    if (isChoice(el)) { save(fieldset); return; }
    var s = st(fieldset.getAttribute("data-item"));
    s.pending = true;
    window.setTimeout(function () {  // by now focus has moved on, if it is moving
      var now = document.activeElement;
      if (s.pending && !groupOf(el).contains(now) && !isFormButton(now) && !inSessionWarning(now)) { save(fieldset); }
    }, 0);
  });
  form.addEventListener("focusout", function (event) {
    var el = event.target;
    var next = event.relatedTarget;
    if (isFormButton(el)) {  // passed by without pressing it
      if (!isFormButton(next) && !inSessionWarning(next)) { savePending(); }
      return;
    }
    var fieldset = itemOf(el);
    if (!fieldset || (next && groupOf(el).contains(next)) || isFormButton(next) || inSessionWarning(next)) { return; }
    if (st(fieldset.getAttribute("data-item")).pending) { save(fieldset); }
  });
  // Enter in a text field saves that item (the browser would press the page's first button).
  form.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key !== "Enter" || el.tagName !== "INPUT" || isChoice(el) || el.type === "file") { return; }
    var fieldset = itemOf(el);
    if (!fieldset || el.form !== form) { return; }
    event.preventDefault();
    save(fieldset);
  });
  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-save-item]") : null;
    if (!button) { return; }
    var fieldset = itemOf(button);
    if (!fieldset) { return; }
    event.preventDefault();
    save(fieldset);
  });
  form.addEventListener("submit", function () {
    Object.keys(state).forEach(function (id) { state[id].dirty = false; state[id].pending = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    // Sent to log in by the session timer, which has kept what was typed: no question.
    if (window.HalsovalSession && window.HalsovalSession.leaving()) { return; }
    var dirty = Object.keys(state).some(function (id) { return state[id].dirty || state[id].busy; });
    if (dirty) { event.preventDefault(); event.returnValue = text.unsaved; return text.unsaved; }
  });

  // "Ej aktuellt under perioden": the reason shows when the box is ticked.
  function reveal(box) {
    var target = box.getAttribute && box.getAttribute("data-reveals");
    if (!target) { return; }
    var panel = document.getElementById(target);
    if (panel) { panel.hidden = !box.checked; }
  }
  form.querySelectorAll("input[data-reveals]").forEach(reveal);

  // Uploads: sent with the script, the refusal or the new file list shown beside the item.
  document.querySelectorAll("form[data-upload]").forEach(function (upload) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = upload.getAttribute("data-upload");
      var fieldset = document.getElementById("item-" + id);
      var error = fieldset.querySelector("[data-upload-error]");
      var input = document.getElementById("file-" + id);
      setState(fieldset, text.saving);
      var sent = Date.now();
      fetch(upload.action, {
        method: "POST",
        body: new FormData(upload),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        if (sessionEnded(result, sent)) { return; }
        setState(fieldset, "");
        if (result.status === 200) {
          error.hidden = true;
          error.textContent = "";
          input.removeAttribute("aria-invalid");
          input.value = "";
          fieldset.querySelector("[data-files]").innerHTML = result.body.files;
          if (result.body.forms) { document.body.insertAdjacentHTML("beforeend", result.body.forms); }
          applySaved(fieldset, result.body);
          setState(fieldset, text.saved);
        } else {
          var message = (result.body.errors && result.body.errors["file-" + id]) || result.body.message || text.failed;
          error.textContent = message;
          error.hidden = false;
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", error.id);
          input.focus();
        }
      }).catch(function () {
        setState(fieldset, text.failed);
      });
    });
  });
})();
