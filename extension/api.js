/*
 * PAT Manager extension: talking to the server and explaining what went wrong.
 *
 * One classic script with no dependencies and no chrome.* calls, so the options
 * page, the popup, the service worker (importScripts) and a plain web page (for
 * tests) can all load it. It defines one global: PatApi.
 *
 * Every call returns a result object instead of throwing:
 *   {ok: true, status, data, expiry}                   on a 2xx JSON answer
 *   {ok: false, problem: {code, title, message, action, ...}}  otherwise
 * and problem.title/message/action are what the pages show, as they are.
 */
(function (root) {
  "use strict";

  var API_PREFIX = "/api/v1";
  // The server puts the PAT's expiry on every answer to a working token
  // (EXPIRY_HEADER in pat_manager/views/api.py; exposed through CORS).
  var EXPIRY_HEADER = "X-PAT-Expires-At";
  var SOON_DAYS = 7;
  // A request the server has not answered by then is reported, not left spinning.
  var TIMEOUT_SECONDS = 20;
  // PAT Manager's answers are small; a huge one is not PAT Manager.
  var MAX_ANSWER_BYTES = 1024 * 1024;
  var DAY_MS = 24 * 60 * 60 * 1000;

  // ---- The server address -------------------------------------------------

  /**
   * Reads what a person typed as the server address.
   * Returns {ok: true, base, origin, pattern} or {ok: false, message}.
   * base has no trailing slash and keeps a path prefix (a server behind a proxy
   * under /pats), but a pasted ".../api/v1" is taken off again.
   */
  function parseServerUrl(text) {
    var value = String(text == null ? "" : text).trim();
    if (!value) {
      return { ok: false, message: "Enter the address of your PAT Manager server, such as http://127.0.0.1:8000." };
    }
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      value = "http://" + value;
    }
    var url;
    try {
      url = new URL(value);
    } catch (e) {
      return { ok: false, message: "\u201c" + text + "\u201d is not a web address. Enter it like http://127.0.0.1:8000." };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { ok: false, message: "The server address must start with http:// or https://." };
    }
    if (url.username || url.password) {
      return { ok: false, message: "Leave the user name and password out of the server address; the PAT is all the extension needs." };
    }
    if (url.search || url.hash) {
      return { ok: false, message: "The server address should not contain ? or #; use the address you open PAT Manager at." };
    }
    var path = url.pathname.replace(/\/+$/, "");
    path = path.replace(/\/api\/v1(\/.*)?$/i, "");
    return {
      ok: true,
      base: url.origin + path,
      origin: url.origin,
      // What chrome.permissions asks for: this host and port, any path.
      pattern: url.origin + "/*",
    };
  }

  // ---- Expiry -------------------------------------------------------------

  /**
   * Reads the expiry header's value: an RFC 3339 time or "none".
   * Returns null when there is no such header (an old server, or not readable).
   */
  function expiryInfo(headerValue, now) {
    if (headerValue == null || headerValue === "") {
      return null;
    }
    var at = now instanceof Date ? now : new Date(now == null ? Date.now() : now);
    var raw = String(headerValue).trim();
    if (raw.toLowerCase() === "none") {
      return { never: true, expiresAt: null, daysLeft: null, soon: false, expired: false, text: "never expires" };
    }
    var when = new Date(raw);
    if (isNaN(when.getTime())) {
      return null;
    }
    var msLeft = when.getTime() - at.getTime();
    var daysLeft = Math.ceil(msLeft / DAY_MS);
    var expired = msLeft <= 0;
    var text;
    if (expired) {
      text = "expired on " + formatDate(when);
    } else if (msLeft < DAY_MS) {
      text = "expires today, " + formatDateTime(when);
    } else {
      text = "expires in " + daysLeft + (daysLeft === 1 ? " day" : " days") + ", on " + formatDate(when);
    }
    return {
      never: false,
      expiresAt: when.toISOString(),
      daysLeft: daysLeft,
      soon: !expired && msLeft <= SOON_DAYS * DAY_MS,
      expired: expired,
      text: text,
    };
  }

  function expiryWarning(expiry) {
    if (!expiry || !expiry.soon) {
      return null;
    }
    return "This PAT " + expiry.text + ". Create a new PAT in PAT Manager before then and paste it here, " +
      "or the extension will stop saving jobs.";
  }

  function formatDate(date) {
    return new Date(date).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  }

  function formatDateTime(date) {
    return new Date(date).toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  // ---- Errors -------------------------------------------------------------

  function problem(code, title, message, action, extra) {
    var p = { code: code, title: title, message: message, action: action };
    if (extra) {
      for (var k in extra) {
        if (Object.prototype.hasOwnProperty.call(extra, k)) {
          p[k] = extra[k];
        }
      }
    }
    return p;
  }

  /** fetch() threw: nothing answered at that address (or the browser blocked it). */
  function unreachable(server, detail) {
    return problem(
      "unreachable",
      "Cannot reach the server",
      "Nothing answered at " + server + (detail ? " (" + detail + ")" : "") + ".",
      "Check the server URL in the extension's options (scheme, host and port, e.g. http://127.0.0.1:8000) " +
        "and that PAT Manager is running; open that address in a tab to see if it loads.",
      { server: server }
    );
  }

  /** Something answered, but not PAT Manager's API (an HTML page, a wrong path). */
  function notPatManager(server, status) {
    return problem(
      "not_pat_manager",
      "Wrong server URL",
      server + " answered" + (status ? " (HTTP " + status + ")" : "") +
        ", but not as PAT Manager's API: this address is not a PAT Manager server, or has an extra path.",
      "Enter the address you open PAT Manager at in your browser (such as http://127.0.0.1:8000), " +
        "without /api/v1 or any page path.",
      { server: server, status: status || null }
    );
  }

  /** The server sent the request on to another address (http to https, a proxy). */
  function redirected(server, to) {
    return problem(
      "redirected",
      "The server redirected elsewhere",
      server + " sent the request on to " + to + ". The extension does not follow that with your PAT.",
      "If " + to + " is where PAT Manager lives (for example its https:// address), enter that in the extension's options.",
      { server: server, to: to }
    );
  }

  function timedOut(server, limit) {
    return problem(
      "timeout",
      "The server did not answer",
      server + " did not answer within " + limit + " seconds.",
      "Check that PAT Manager is running and reachable (open it in a tab), then try again.",
      { server: server }
    );
  }

  function originOf(url) {
    try {
      return new URL(url).origin;
    } catch (e) {
      return null;
    }
  }

  function seconds(n) {
    return n + (n === 1 ? " second" : " seconds");
  }

  function retryAfterSeconds(headerValue, body, now) {
    if (headerValue != null && String(headerValue).trim() !== "") {
      var v = String(headerValue).trim();
      if (/^\d+$/.test(v)) {
        return parseInt(v, 10);
      }
      var date = new Date(v);
      if (!isNaN(date.getTime())) {
        var at = now == null ? Date.now() : new Date(now).getTime();
        return Math.max(0, Math.ceil((date.getTime() - at) / 1000));
      }
    }
    // Without the header (not exposed to a CORS caller) the message says it too.
    var m = body && typeof body.message === "string" && body.message.match(/retry after (\d+) second/i);
    return m ? parseInt(m[1], 10) : null;
  }

  var REASONS = {
    expired: {
      message: "Invalid PAT token: it has expired.",
      action: "Create a new PAT in PAT Manager (PATs \u2192 New PAT), then paste it into the extension's options.",
    },
    revoked: {
      message: "Invalid PAT token: it was revoked.",
      action: "A revoked PAT cannot be used again. Create a new PAT in PAT Manager and paste it into the extension's options.",
    },
    paused: {
      message: "Invalid PAT token: it is paused.",
      action: "Resume the PAT on the PATs page in PAT Manager, or paste another PAT into the extension's options.",
    },
    rotated: {
      message: "Invalid PAT token: it was replaced by a new token (rotated), and the old one has stopped working.",
      action: "In PAT Manager, use Reveal on this PAT to copy its new token, then paste it into the extension's options.",
    },
  };

  function fieldList(fields) {
    if (!fields || typeof fields !== "object") {
      return [];
    }
    return Object.keys(fields).map(function (name) {
      var text = fields[name];
      if (Array.isArray(text)) {
        text = text.join(" ");
      }
      return { field: name, message: String(text) };
    });
  }

  /**
   * Turns an HTTP answer that is not a success into a problem to show.
   * status: the HTTP status; body: the parsed JSON (or null when the body was
   * not JSON); headers: anything with get(name); server: the base URL; now: for
   * Retry-After dates and expiry (tests).
   */
  function explainResponse(status, body, headers, server, now) {
    var get = function (name) {
      return headers && typeof headers.get === "function" ? headers.get(name) : null;
    };
    if (!body || typeof body !== "object" || typeof body.error !== "string") {
      if (status >= 500) {
        return problem(
          "server_error",
          "The server had a problem",
          "PAT Manager at " + server + " answered HTTP " + status + " without saying why.",
          "Try again in a minute. If it keeps happening, the server's administrator can look at its log.",
          { status: status }
        );
      }
      return notPatManager(server, status);
    }
    var code = body.error;
    var said = typeof body.message === "string" ? body.message : "";
    switch (code) {
      case "invalid_token": {
        var reason = REASONS[body.reason];
        if (reason) {
          return problem(code, "Invalid PAT token", reason.message, reason.action, { reason: body.reason, status: status });
        }
        return problem(
          code,
          "Invalid PAT token",
          "Invalid PAT token: the server does not know this token.",
          "Check that you pasted the whole token (54 characters, starting with cvf_). " +
            "In PAT Manager, Reveal shows the token again so you can copy it.",
          { status: status }
        );
      }
      case "insufficient_scope": {
        var scope = body.required_scopes || body.required_scope || body.scope || null;
        if (Array.isArray(scope)) {
          scope = scope.join(", ");
        }
        return problem(
          code,
          "This PAT is not allowed to do that",
          "The PAT lacks the permission this needs" + (scope ? " (scope \u201c" + scope + "\u201d)" : "") + "." +
            (said ? " The server said: " + said : ""),
          "In PAT Manager, give the PAT that permission, or create a PAT that has it and paste it into the extension's options.",
          { status: status, scope: scope }
        );
      }
      case "ip_not_allowed": {
        var ip = body.ip || body.address || null;
        return problem(
          code,
          "Not allowed from this network",
          "This PAT may not be used from your network address" + (ip ? " (" + ip + ")" : "") + ".",
          "In PAT Manager, edit the PAT and add this address to its allowed networks, or save jobs from a network the PAT allows.",
          { status: status, ip: ip }
        );
      }
      case "origin_not_allowed": {
        var origin = body.origin || null;
        return problem(
          code,
          "Not allowed from this extension",
          "This PAT may not be used from this browser extension" + (origin ? " (" + origin + ")" : "") + ".",
          "In PAT Manager, edit the PAT and set its allowed extension to" + (origin ? " " + origin : " this extension's origin") +
            ", or use a PAT made for this extension.",
          { status: status, origin: origin }
        );
      }
      case "template_not_found":
        return problem(
          code,
          "CV template not found",
          "CV template not found: the PAT's CV template was deleted, or the PAT uses your default template and none is set.",
          "In PAT Manager, open PATs and use Fix on this PAT to choose a template, or set a default CV template. The token stays the same.",
          { status: status }
        );
      case "rate_limited": {
        var wait = retryAfterSeconds(get("Retry-After"), body, now);
        var when = wait == null ? null : new Date((now == null ? Date.now() : new Date(now).getTime()) + wait * 1000);
        return problem(
          code,
          "Too many requests",
          "The server is limiting requests" + (said ? ": " + said : "."),
          wait == null
            ? "Wait a minute, then try again."
            : "Try again in " + seconds(wait) + " (after " + when.toLocaleTimeString() + ").",
          { status: status, retryAfter: wait }
        );
      }
      case "validation_error": {
        var fields = fieldList(body.fields);
        return problem(
          code,
          "The server refused some fields",
          fields.length
            ? fields.map(function (f) { return f.field + ": " + f.message; }).join(" ")
            : said || "Some fields are not valid.",
          "Only web pages (http or https addresses) can be saved as jobs; shorten a very long title. Correct the fields and try again.",
          { status: status, fields: fields }
        );
      }
      case "not_found":
        return notPatManager(server, status);
      case "idempotency_conflict":
        return problem(
          code,
          "Saved differently a moment ago",
          "This save was already sent with other details, so the server refused to store it twice.",
          "Close and reopen the popup, then save again.",
          { status: status }
        );
      case "payload_too_large":
        return problem(code, "Too much text", said || "The job's details are too long.", "Shorten the notes or title and try again.", { status: status });
      case "malformed_json":
      case "bad_request":
      case "unsupported_media_type":
      case "method_not_allowed":
        return problem(
          code,
          "The server did not understand the extension",
          (said || "The request was refused") + " (" + code + ", HTTP " + status + ").",
          "The extension and the server may be different versions: update the extension from the same PAT Manager release.",
          { status: status }
        );
      default:
        return problem(
          code,
          "The server refused the request",
          (said || "No reason given") + " (" + code + ", HTTP " + status + ").",
          status >= 500 ? "Try again in a minute; if it keeps happening, check the server's log." : "Check the PAT in PAT Manager.",
          { status: status }
        );
    }
  }

  // ---- Requests -----------------------------------------------------------

  /**
   * Turns a fetch Response into a result (see the top of this file).
   */
  function interpret(response, server, now, expect) {
    if (response.redirected && response.url && originOf(response.url) !== originOf(server)) {
      return Promise.resolve({ ok: false, problem: redirected(server, originOf(response.url) || response.url) });
    }
    if (Number(response.headers.get("Content-Length")) > MAX_ANSWER_BYTES) {
      return Promise.resolve({ ok: false, problem: notPatManager(server, response.status) });
    }
    var type = (response.headers.get("Content-Type") || "").toLowerCase();
    var expiry = expiryInfo(response.headers.get(EXPIRY_HEADER), now);
    var isJson = type.indexOf("application/json") !== -1 || /\+json/.test(type);
    var bodyPromise = isJson
      ? response.text().then(function (text) {
          try {
            return JSON.parse(text);
          } catch (e) {
            return null;
          }
        })
      : Promise.resolve(null);
    return bodyPromise.then(function (body) {
      // A success must have the shape this call expects; anything else is not
      // PAT Manager's answer (and must not be shown as one).
      if (response.ok && body && typeof body === "object" && (!expect || expect(body))) {
        return {
          ok: true,
          status: response.status,
          data: body,
          expiry: expiry,
          replayed: response.headers.get("Idempotent-Replayed") === "true",
        };
      }
      if (response.ok) {
        // 2xx but not JSON: a web page, not the API.
        return { ok: false, problem: notPatManager(server, response.status), expiry: expiry };
      }
      return { ok: false, problem: explainResponse(response.status, body, response.headers, server, now), expiry: expiry };
    });
  }

  /**
   * One API call. settings: {server, token}; path under /api/v1; options:
   * {method, body (an object, sent as JSON), idempotencyKey, fetch, now}.
   */
  function call(settings, path, options) {
    options = options || {};
    var parsed = parseServerUrl(settings && settings.server);
    if (!parsed.ok) {
      return Promise.resolve({ ok: false, problem: problem("bad_server_url", "Wrong server URL", parsed.message, "Fix the server URL in the extension's options.") });
    }
    var token = String((settings && settings.token) || "").trim();
    if (!token) {
      return Promise.resolve({ ok: false, problem: problem("no_token", "No PAT set", "The extension has no PAT to send.", "Paste a PAT from PAT Manager (PATs \u2192 New PAT, or Reveal) into the extension's options.") });
    }
    var headers = { Accept: "application/json", Authorization: "Bearer " + token };
    // Redirects are followed only to be recognised: the browser drops the PAT
    // when one leads to another origin, and interpret() refuses the answer.
    var init = { method: options.method || "GET", headers: headers, credentials: "omit", cache: "no-store", redirect: "follow" };
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var limit = options.timeoutSeconds || TIMEOUT_SECONDS;
    var timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = setTimeout(function () { controller.abort(); }, limit * 1000);
    }
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.idempotencyKey) {
      headers["Idempotency-Key"] = options.idempotencyKey;
    }
    var doFetch = options.fetch || root.fetch.bind(root);
    var url = parsed.base + API_PREFIX + path;
    var done = function (result) {
      if (timer) clearTimeout(timer);
      return result;
    };
    return doFetch(url, init).then(
      function (response) {
        return interpret(response, parsed.base, options.now, options.expect).then(done, function () {
          return done({ ok: false, problem: timedOut(parsed.base, limit) });
        });
      },
      function (err) {
        if (err && err.name === "AbortError") {
          return done({ ok: false, problem: timedOut(parsed.base, limit) });
        }
        return done({ ok: false, problem: unreachable(parsed.base, err && err.message) });
      }
    );
  }

  function checkToken(settings, options) {
    var o = Object.assign({}, options || {}, {
      expect: function (b) {
        return b.pat && typeof b.pat.name === "string" && b.pat.name.length <= 200 && typeof b.pat.id === "number";
      },
    });
    return call(settings, "/token", o);
  }

  function checkDuplicate(settings, jobUrl, options) {
    var o = Object.assign({}, options || {}, {
      expect: function (b) { return typeof b.submitted === "boolean" && typeof b.count === "number"; },
    });
    return call(settings, "/submissions/check?url=" + encodeURIComponent(jobUrl), o);
  }

  function submit(settings, job, idempotencyKey, options) {
    var o = Object.assign({}, options || {}, {
      method: "POST",
      body: job,
      idempotencyKey: idempotencyKey,
      expect: function (b) { return typeof b.id === "number" && typeof b.url === "string"; },
    });
    return call(settings, "/submissions", o);
  }

  /** The job's address as saved: without its #fragment, which can hold sign-in
   * tokens and never names another job. */
  function jobAddress(url) {
    try {
      var parsed = new URL(url);
      parsed.hash = "";
      return parsed.href;
    } catch (e) {
      return String(url || "");
    }
  }

  function newIdempotencyKey() {
    if (root.crypto && typeof root.crypto.randomUUID === "function") {
      return root.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    root.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /** Only http(s) pages are jobs the server accepts. */
  function isSavablePage(url) {
    return /^https?:\/\//i.test(String(url || ""));
  }

  root.PatApi = {
    API_PREFIX: API_PREFIX,
    EXPIRY_HEADER: EXPIRY_HEADER,
    SOON_DAYS: SOON_DAYS,
    parseServerUrl: parseServerUrl,
    expiryInfo: expiryInfo,
    expiryWarning: expiryWarning,
    explainResponse: explainResponse,
    unreachable: unreachable,
    interpret: interpret,
    call: call,
    checkToken: checkToken,
    checkDuplicate: checkDuplicate,
    submit: submit,
    newIdempotencyKey: newIdempotencyKey,
    isSavablePage: isSavablePage,
    jobAddress: jobAddress,
    formatDate: formatDate,
    formatDateTime: formatDateTime,
  };
})(typeof globalThis !== "undefined" ? globalThis : self);
