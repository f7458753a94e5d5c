/* The dashboard's only script: live rows, and a confirm for dangerous buttons.
   Any element with data-refresh="<url>" is re-fetched every few seconds and its
   contents swapped, unless the user is interacting inside it (an open <details>,
   focus in a form) or the tab is hidden. No framework, no build. */
(function () {
  "use strict";
  var INTERVAL = 2500;

  function busy(box) {
    if (document.hidden) { return true; }
    if (box.contains(document.activeElement) && document.activeElement !== document.body) { return true; }
    return box.querySelector("details[open]") !== null;
  }

  function refresh(box) {
    if (busy(box)) { return; }
    fetch(box.dataset.refresh, { headers: { "X-Requested-With": "dashboard" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== box.dataset.last && !busy(box)) {
          box.innerHTML = html;
          box.dataset.last = html;
          box.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () { /* the provider restarted or is busy: try again next time */ });
  }

  document.querySelectorAll("[data-refresh]").forEach(function (box) {
    box.dataset.last = box.innerHTML;
    setInterval(function () { refresh(box); }, INTERVAL);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
}());
