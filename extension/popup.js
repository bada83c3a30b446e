/*
 * Popup: "Save this job" posts the current tab's URL and title.
 *
 * The tab is the active tab of the last-focused normal window, or the one named
 * by ?tab=<id> (how tests open this page in a tab of its own, where there is no
 * "current tab").
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var form = $("job");
  var titleInput = $("title");
  var companyInput = $("company");
  var saveButton = $("save");
  var duplicateBox = $("duplicate");
  var statusBox = $("status");
  var problemBox = $("problem");
  var warningBox = $("expiry-warning");

  var settings = null;
  var tab = null;
  var busy = false;
  var saved = false;
  // One Idempotency-Key per body: a double click or a retry of the same job
  // is stored once; an edited title is a new request.
  var attempt = { body: null, key: null };

  function targetTab() {
    var param = new URLSearchParams(location.search).get("tab");
    if (param !== null && /^\d+$/.test(param)) {
      return chrome.tabs.get(Number(param)).catch(function () { return null; });
    }
    return chrome.tabs
      .query({ active: true, lastFocusedWindow: true, windowType: "normal" })
      .then(function (tabs) { return tabs[0] || null; });
  }

  function setBusy(value) {
    busy = value;
    saveButton.disabled = value || saved;
    $("save-anyway").disabled = value;
    $("cancel").disabled = value;
    form.setAttribute("aria-busy", value ? "true" : "false");
  }

  function job() {
    var body = { url: PatApi.jobAddress(tab.url) };
    var title = titleInput.value.trim();
    var company = companyInput.value.trim();
    if (title) {
      body.title = title;
    }
    if (company) {
      body.company = company;
    }
    return body;
  }

  function keyFor(body) {
    var text = JSON.stringify(body);
    if (attempt.body !== text) {
      attempt = { body: text, key: PatApi.newIdempotencyKey() };
    }
    return attempt.key;
  }

  function showExpiry(expiry) {
    var warning = PatApi.expiryWarning(expiry);
    if (warning) {
      PatUi.showMessage(warningBox, "warn", "Expires soon", [warning]);
    } else {
      PatUi.hide(warningBox);
    }
    if (expiry) {
      chrome.storage.local.get("lastCheck").then(function (stored) {
        var record = Object.assign({}, stored.lastCheck || {}, {
          at: new Date().toISOString(),
          ok: true,
          expiresAt: expiry.never ? "none" : expiry.expiresAt,
        });
        return chrome.storage.local.set({ lastCheck: record });
      });
    }
  }

  function fail(problem) {
    PatUi.hide(statusBox);
    PatUi.showProblem(problemBox, problem);
    if (problem.code === "invalid_token") {
      chrome.storage.local.get("lastCheck").then(function (stored) {
        var record = Object.assign({}, stored.lastCheck || {}, { at: new Date().toISOString(), ok: false, problem: problem.code });
        return chrome.storage.local.set({ lastCheck: record });
      });
    }
  }

  function describeLast(data) {
    var last = data.last;
    var when = last ? PatApi.formatDateTime(last.created_at) : null;
    var who = last && last.pat ? "with the PAT \u201c" + last.pat.name + "\u201d" : "with a PAT that no longer exists";
    var text = "You already saved this job" + (when ? " on " + when + " " + who : "") + ".";
    if (data.count > 1) {
      text += " It was saved " + data.count + " times in all.";
    }
    return text + " Save it again anyway?";
  }

  function post() {
    var body = job();
    setBusy(true);
    duplicateBox.hidden = true;
    PatUi.hide(problemBox);
    PatUi.showMessage(statusBox, "info", null, ["Saving\u2026"]);
    return PatApi.submit(settings, body, keyFor(body)).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        fail(result.problem);
        saveButton.focus();
        return;
      }
      saved = true;
      saveButton.disabled = true;
      saveButton.textContent = "Saved";
      var s = result.data;
      var template = s.template ? "with the CV template \u201c" + s.template.name + "\u201d" : "without a CV template";
      PatUi.showMessage(statusBox, "ok", "Saved to PAT Manager", [
        "\u201c" + (s.title || s.url) + "\u201d was saved " + template + ".",
        result.replayed ? "(It had already been saved by this click; nothing was stored twice.)" : null,
      ]);
      showExpiry(result.expiry);
    });
  }

  function saveJob() {
    if (busy || saved) {
      return;
    }
    setBusy(true);
    PatUi.hide(problemBox);
    PatUi.showMessage(statusBox, "info", null, ["Checking whether you saved this job before\u2026"]);
    PatApi.checkDuplicate(settings, PatApi.jobAddress(tab.url)).then(function (result) {
      if (!result.ok) {
        setBusy(false);
        fail(result.problem);
        return;
      }
      showExpiry(result.expiry);
      if (result.data.submitted) {
        setBusy(false);
        PatUi.hide(statusBox);
        $("duplicate-text").textContent = describeLast(result.data);
        duplicateBox.hidden = false;
        saveButton.disabled = true;
        $("save-anyway").focus();
        return;
      }
      return post();
    }).catch(unexpected);
  }

  /** A bug or a browser refusal, not an answer from the server: still say it. */
  function unexpected(err) {
    setBusy(false);
    fail({
      code: "unexpected",
      title: "Something went wrong in the extension",
      message: String(err && err.message ? err.message : err),
      action: "Close the popup and try again; if it keeps happening, reload the extension in chrome://extensions.",
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    saveJob();
  });

  $("save-anyway").addEventListener("click", function () {
    if (!busy) {
      post().catch(unexpected);
    }
  });

  $("cancel").addEventListener("click", function () {
    duplicateBox.hidden = true;
    PatUi.showMessage(statusBox, "info", null, ["Not saved."]);
    saveButton.disabled = false;
    saveButton.focus();
  });

  $("open-options").addEventListener("click", function () {
    chrome.runtime.openOptionsPage();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !duplicateBox.hidden) {
      $("cancel").click();
    }
  });

  Promise.all([PatUi.loadSettings(), targetTab()]).then(function (values) {
    settings = values[0];
    tab = values[1];
    if (!settings.server || !settings.token) {
      $("not-configured").hidden = false;
      $("open-options").focus();
      return;
    }
    if (settings.lastCheck && settings.lastCheck.patName) {
      $("pat-label").textContent = "PAT: " + settings.lastCheck.patName;
    }
    if (settings.lastCheck && settings.lastCheck.expiresAt) {
      var expiry = PatApi.expiryInfo(settings.lastCheck.expiresAt);
      var warning = PatApi.expiryWarning(expiry);
      if (warning) {
        PatUi.showMessage(warningBox, "warn", "Expires soon", [warning]);
      }
    }
    if (!tab || !PatApi.isSavablePage(tab.url)) {
      PatUi.showMessage(problemBox, "error", "This page cannot be saved", [
        tab && tab.url
          ? "Only web pages (http:// or https:// addresses) can be saved as jobs."
          : "The extension could not see which page is open.",
        "What to do: open the job's page in a tab, then click the extension's button.",
      ]);
      problemBox.dataset.code = "not_a_job_page";
      return;
    }
    $("job-url").textContent = PatApi.jobAddress(tab.url);
    titleInput.value = (tab.title || "").slice(0, 300);
    form.hidden = false;
    saveButton.focus();
  });
})();
