/*
 * Service worker: opens the options on first install, and keeps the toolbar
 * badge telling whether the PAT needs attention (it does not work, or it
 * expires within 7 days), from what the pages last learned from the server.
 * It makes no network requests of its own.
 */
importScripts("api.js");

var ALARM = "refresh-badge";

function badgeFor(lastCheck, now) {
  if (!lastCheck) {
    return { text: "", title: "Save this job to PAT Manager" };
  }
  if (lastCheck.ok === false) {
    return {
      text: "!",
      color: "#b42318",
      title: "PAT Manager: the PAT did not work at the last try. Open the options to check it.",
    };
  }
  var expiry = PatApi.expiryInfo(lastCheck.expiresAt, now);
  if (expiry && expiry.expired) {
    return { text: "!", color: "#b42318", title: "PAT Manager: the PAT " + expiry.text + "." };
  }
  if (expiry && expiry.soon) {
    return { text: expiry.daysLeft + "d", color: "#9a5b00", title: "PAT Manager: the PAT " + expiry.text + "." };
  }
  return { text: "", title: "Save this job to PAT Manager" };
}

function refreshBadge() {
  return chrome.storage.local.get("lastCheck").then(function (stored) {
    var badge = badgeFor(stored.lastCheck, new Date());
    var steps = [
      chrome.action.setBadgeText({ text: badge.text }),
      chrome.action.setTitle({ title: badge.title }),
    ];
    if (badge.color) {
      steps.push(chrome.action.setBadgeBackgroundColor({ color: badge.color }));
    }
    return Promise.all(steps);
  });
}

chrome.runtime.onInstalled.addListener(function (details) {
  chrome.alarms.create(ALARM, { periodInMinutes: 60 });
  refreshBadge();
  if (details.reason === "install") {
    chrome.storage.local.get(["server", "token"]).then(function (stored) {
      if (!stored.server || !stored.token) {
        chrome.runtime.openOptionsPage();
      }
    });
  }
});

chrome.runtime.onStartup.addListener(refreshBadge);

chrome.alarms.onAlarm.addListener(function (alarm) {
  if (alarm.name === ALARM) {
    refreshBadge();
  }
});

chrome.storage.onChanged.addListener(function (changes, area) {
  if (area === "local" && changes.lastCheck) {
    refreshBadge();
  }
});
