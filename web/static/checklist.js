// Checklist page: warn before leaving with unsaved answers (an upload reloads the page).
(function () {
  "use strict";
  var form = document.getElementById("checklist-form");
  if (!form) { return; }
  var dirty = false;
  var message = form.getAttribute("data-unsaved") || "";
  // Only the answers count: upload inputs sit inside the page but belong to their own forms.
  function mark(event) { if (event.target.form === form) { dirty = true; } }
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = message; return message; }
  });
  document.querySelectorAll("button[form^='up-'], button[form^='rm-']").forEach(function (b) {
    b.addEventListener("click", function (event) {
      if (dirty && !window.confirm(message)) { event.preventDefault(); return; }
      dirty = false;
    });
  });
})();
