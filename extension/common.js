/*
 * Helpers the extension's pages share: the stored settings and showing a
 * result or a problem (text only: nothing from the server becomes HTML).
 */
(function (root) {
  "use strict";

  var KEYS = ["server", "token", "lastCheck"];

  function loadSettings() {
    return chrome.storage.local.get(KEYS).then(function (stored) {
      return {
        server: stored.server || "",
        token: stored.token || "",
        lastCheck: stored.lastCheck || null,
      };
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text != null) {
      node.textContent = text;
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  /** Shows a PatApi problem in box: title, what happened, what to do. */
  function showProblem(box, problem) {
    clear(box);
    box.hidden = false;
    box.className = "message message--error";
    box.dataset.code = problem.code;
    box.appendChild(el("strong", "message__title", problem.title));
    box.appendChild(el("p", "message__text", problem.message));
    if (problem.fields && problem.fields.length) {
      var list = el("ul", "message__fields");
      problem.fields.forEach(function (f) {
        list.appendChild(el("li", null, f.field + ": " + f.message));
      });
      box.appendChild(list);
    }
    box.appendChild(el("p", "message__action", "What to do: " + problem.action));
  }

  function showMessage(box, kind, title, lines) {
    clear(box);
    box.hidden = false;
    box.className = "message message--" + kind;
    delete box.dataset.code;
    if (title) {
      box.appendChild(el("strong", "message__title", title));
    }
    (lines || []).forEach(function (line) {
      if (line) {
        box.appendChild(el("p", "message__text", line));
      }
    });
  }

  function hide(box) {
    clear(box);
    box.hidden = true;
  }

  root.PatUi = {
    loadSettings: loadSettings,
    el: el,
    clear: clear,
    showProblem: showProblem,
    showMessage: showMessage,
    hide: hide,
  };
})(globalThis);
