// Progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function flash(message, kind) {
    var box = document.getElementById("flashes");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash flash--" + (kind || "error");
    p.setAttribute("role", kind === "error" ? "alert" : "status");
    p.textContent = message;
    box.replaceChildren(p);
  }

  // Copy buttons only work with this script, so they stay hidden until it runs.
  function showCopyButtons(root) {
    (root || document).querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });

  // Copy buttons: data-copy names the input whose value to copy.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        flash("Copy was blocked by the browser: the token is selected, press Ctrl+C (⌘C).", "warning");
      });
    } else {
      // Plain http on a LAN address has no clipboard API; the selection still helps.
      flash("The token is selected: press Ctrl+C (⌘C) to copy it.", "info");
    }
  });

  // htmx errors that are not swapped (403, 404, 5xx…) still tell the person something.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      text = (doc.body && doc.body.textContent || "").trim();
    } catch (e) { text = ""; }
    flash(text || ("The server answered " + xhr.status + ". Reload the page and try again."), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check your connection and try again.", "error");
  });
})();

// Bulk selection and rotation countdowns (the pages work without these).
(function () {
  "use strict";

  function boxes() {
    return document.querySelectorAll('input[name="ids"][form="bulk"]');
  }

  // With JavaScript, "Select all" is a checkbox; without it, a link.
  function setUpSelectAll(root) {
    (root || document).querySelectorAll("[data-select-all-label]").forEach(function (label) {
      label.hidden = false;
    });
    (root || document).querySelectorAll("[data-select-all-link]").forEach(function (link) {
      link.hidden = true;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    setUpSelectAll(document);
    if (window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) {
      document.querySelectorAll("details[data-fold-on-phones]").forEach(function (d) { d.open = false; });
    }
  });

  // "Select all" is ticked exactly when every PAT box is.
  function syncSelectAll() {
    var all = document.querySelector("[data-select-all]");
    if (!all) return;
    var list = Array.prototype.slice.call(boxes());
    all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
    } else if (target.matches('input[name="ids"][form="bulk"]')) {
      syncSelectAll();
    }
  });

  // The bulk review and result move focus to themselves, so keyboard and screen
  // reader users land on what changed.
  document.addEventListener("htmx:afterSettle", syncSelectAll);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "bulk-panel") {
      var result = document.getElementById("bulk-result");
      if (result) result.focus();
    }
  });

  function remaining(ms) {
    var minutes = Math.max(1, Math.floor(ms / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + " d " + hours + " h";
    return hours ? hours + " h " + mins + " min" : mins + " min";
  }

  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      // Stored times carry microseconds, more than Date.parse promises to read.
      var until = Date.parse(el.getAttribute("datetime").replace(/\.\d+Z$/, "Z"));
      if (isNaN(until)) return;
      var left = until - Date.now();
      el.textContent = left > 0 ? remaining(left) : "no time: it has stopped";
    });
  }
  setInterval(tick, 30000);
})();
