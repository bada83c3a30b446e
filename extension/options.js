/* Options page: the server URL and the PAT, saved in chrome.storage.local. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var form = $("settings");
  var serverInput = $("server");
  var tokenInput = $("token");
  var saveButton = $("save");
  var checkButton = $("check");
  var statusBox = $("status");
  var problemBox = $("problem");
  var warningBox = $("expiry-warning");
  var info = $("pat-info");

  function fieldError(input, errorId, message) {
    var p = $(errorId);
    if (message) {
      input.setAttribute("aria-invalid", "true");
      p.textContent = message;
      p.hidden = false;
    } else {
      input.removeAttribute("aria-invalid");
      p.textContent = "";
      p.hidden = true;
    }
  }

  /** The typed values, or null (with the fields marked) when one is wrong. */
  function readForm() {
    var parsed = PatApi.parseServerUrl(serverInput.value);
    var token = tokenInput.value.trim();
    fieldError(serverInput, "server-error", parsed.ok ? null : parsed.message);
    fieldError(tokenInput, "token-error", token ? null : "Paste a PAT from PAT Manager; it starts with cvf_.");
    if (!parsed.ok) {
      serverInput.focus();
      return null;
    }
    if (!token) {
      tokenInput.focus();
      return null;
    }
    return { parsed: parsed, settings: { server: parsed.base, token: token } };
  }

  /**
   * Asks for access to the server's origin. Must run inside the click's user
   * gesture, so it is called before anything is awaited.
   */
  function requestAccess(parsed) {
    return chrome.permissions.request({ origins: [parsed.pattern] });
  }

  function setBusy(busy) {
    saveButton.disabled = busy;
    checkButton.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function accessRefused(parsed) {
    PatUi.showProblem(problemBox, {
      code: "permission_refused",
      title: "Access to the server was not allowed",
      message: "The browser did not let the extension reach " + parsed.origin + ".",
      action: "Click Save again and choose Allow, or check the extension's site access in chrome://extensions.",
    });
  }

  function templateText(pat) {
    if (pat.template_status === "not_found") {
      return "CV template not found";
    }
    if (pat.template) {
      return pat.template.name + (pat.template_choice === "default" ? " (your default)" : "");
    }
    return "No template";
  }

  function showPat(data, expiry) {
    var pat = data.pat;
    $("pat-name").textContent = pat.name;
    $("pat-template").textContent = templateText(pat);
    var expiresAt = expiry ? expiry : PatApi.expiryInfo(pat.expires_at || "none");
    $("pat-expiry").textContent = expiresAt ? expiresAt.text : "unknown";
    $("pat-account").textContent = (data.account && data.account.email) || "";
    info.hidden = false;

    var warnings = [];
    var soon = PatApi.expiryWarning(expiry);
    if (soon) {
      warnings.push(soon);
    }
    if (pat.template_status === "not_found") {
      warnings.push(
        "CV template not found: saving a job with this PAT will fail until you choose a template. " +
          "In PAT Manager, open PATs and use Fix on \u201c" + pat.name + "\u201d, or set a default CV template."
      );
    }
    if (Array.isArray(pat.scopes) && pat.scopes.indexOf("submissions:write") === -1) {
      warnings.push(
        "This PAT cannot save jobs: it lacks the submissions:write scope. " +
          "In PAT Manager, edit \u201c" + pat.name + "\u201d and tick submissions:write, or paste a PAT that has it."
      );
    }
    if (pat.old_token === true) {
      warnings.push(
        "This is the old token of \u201c" + pat.name + "\u201d, which was rotated: it stops working when the " +
          "rotation's overlap ends. In PAT Manager, use Reveal on that PAT and paste its new token here."
      );
    }
    if (warnings.length) {
      PatUi.showMessage(warningBox, "warn", soon ? "Expires soon" : "Check this PAT", warnings);
    } else {
      PatUi.hide(warningBox);
    }
  }

  function rememberCheck(result) {
    var record = { at: new Date().toISOString(), ok: result.ok };
    if (result.expiry) {
      record.expiresAt = result.expiry.never ? "none" : result.expiry.expiresAt;
    }
    if (result.ok) {
      record.patName = result.data.pat.name;
    } else {
      record.problem = result.problem.code;
    }
    return chrome.storage.local.set({ lastCheck: record });
  }

  function runCheck(settings, saved) {
    PatUi.hide(problemBox);
    PatUi.showMessage(statusBox, "info", null, [(saved ? "Saved. " : "") + "Checking the PAT with " + settings.server + "\u2026"]);
    return PatApi.checkToken(settings).then(function (result) {
      if (result.ok) {
        PatUi.showMessage(statusBox, "ok", saved ? "Saved, and the PAT works" : "The PAT works", [
          "Connected to " + settings.server + " as \u201c" + result.data.pat.name + "\u201d.",
        ]);
        showPat(result.data, result.expiry);
      } else {
        info.hidden = true;
        PatUi.hide(warningBox);
        if (saved) {
          PatUi.showMessage(statusBox, "info", null, ["Saved, but the check failed:"]);
        } else {
          PatUi.hide(statusBox);
        }
        PatUi.showProblem(problemBox, result.problem);
      }
      return saved ? rememberCheck(result) : null;
    });
  }

  function forgetOldAccess(oldServer, newParsed) {
    var old = PatApi.parseServerUrl(oldServer);
    if (!old.ok || old.origin === newParsed.origin) {
      return Promise.resolve();
    }
    // Fails harmlessly for the loopback hosts the manifest always grants.
    return chrome.permissions.remove({ origins: [old.pattern] }).catch(function () {});
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var entry = readForm();
    if (!entry) {
      return;
    }
    setBusy(true);
    var access = requestAccess(entry.parsed);
    access
      .then(function (granted) {
        if (!granted) {
          PatUi.hide(statusBox);
          accessRefused(entry.parsed);
          return null;
        }
        return PatUi.loadSettings().then(function (before) {
          return chrome.storage.local
            .set({ server: entry.settings.server, token: entry.settings.token })
            .then(function () {
              serverInput.value = entry.settings.server;
              return forgetOldAccess(before.server, entry.parsed);
            })
            .then(function () {
              return runCheck(entry.settings, true);
            });
        });
      })
      .catch(function (err) {
        PatUi.showProblem(problemBox, {
          code: "permission_error",
          title: "Could not ask for access to the server",
          message: String(err && err.message ? err.message : err),
          action: "Check the server URL; it must be an http:// or https:// address.",
        });
      })
      .finally(function () {
        setBusy(false);
      });
  });

  checkButton.addEventListener("click", function () {
    var entry = readForm();
    if (!entry) {
      return;
    }
    setBusy(true);
    // Without the permission the call still goes through CORS, which the
    // server allows for extensions; with it, every header is readable.
    requestAccess(entry.parsed)
      .catch(function () { return false; })
      .then(function () {
        return runCheck(entry.settings, false);
      })
      .finally(function () {
        setBusy(false);
      });
  });

  $("show-token").addEventListener("change", function (event) {
    tokenInput.type = event.target.checked ? "text" : "password";
  });

  PatUi.loadSettings().then(function (settings) {
    serverInput.value = settings.server;
    tokenInput.value = settings.token;
    if (!settings.server) {
      serverInput.focus();
    }
  });
})();
