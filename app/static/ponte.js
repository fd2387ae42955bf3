/* Ponte portal: tiny vanilla JS, no library. Copy buttons and live run progress. */
(function () {
  "use strict";

  function copyText(text, button) {
    var done = function () {
      var old = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else { fallback(text); done(); }
  }

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source) { copyText(source.textContent.trim(), button); }
  });

  function badge(status) {
    var span = document.createElement("span");
    span.className = "badge badge-" + status;
    span.textContent = status.replace("_", " ");
    return span;
  }

  function setText(row, selector, value) {
    var cell = row.querySelector(selector);
    if (cell) { cell.textContent = value; }
  }

  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var status = document.getElementById("run-status");
        if (status) { status.replaceChildren(badge(data.status)); }
        data.steps.forEach(function (s) {
          var row = box.querySelector('tr[data-step="' + s.position + '"]');
          if (!row) { return; }
          var finished = ["succeeded", "partial", "failed", "skipped"].indexOf(s.status) >= 0;
          var pct = s.items_total ? Math.round(100 * s.items_done / s.items_total) : (finished ? 100 : 0);
          var bar = row.querySelector("progress");
          if (bar) { bar.value = pct; }
          row.querySelector(".st").replaceChildren(badge(s.status));
          setText(row, ".done", s.items_done + " of " + (s.items_total === null ? "?" : s.items_total));
          setText(row, ".n-created", s.created);
          setText(row, ".n-updated", s.updated);
          setText(row, ".n-unchanged", s.unchanged);
          setText(row, ".n-failed", s.failed);
        });
        /* data-active stays as the server rendered it: "false" means a finished page */
        if (data.active) {
          setTimeout(function () { poll(box); }, 1000);
        } else {
          /* finished: reload once so failed items and the re-run buttons appear */
          setTimeout(function () { window.location.reload(); }, 300);
        }
      })
      .catch(function () { setTimeout(function () { poll(box); }, 3000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("run");
    if (box && box.getAttribute("data-active") === "true") {
      setTimeout(function () { poll(box); }, 500);
    }
  });
})();
