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
