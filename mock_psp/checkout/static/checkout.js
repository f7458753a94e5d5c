/* mock-psp test checkout: progressive enhancement only; every page works without it. */
(function () {
  "use strict";
  var body = document.body;
  var embedded = body.dataset.mode === "embedded";
  var parentOrigin = body.dataset.parentOrigin;

  // Results go to the exact parent origin the server checked, never to "*".
  function post(message) {
    if (embedded && parentOrigin && window.parent !== window) {
      window.parent.postMessage(message, parentOrigin);
    }
  }

  if (body.dataset.message) {
    try { post(JSON.parse(body.dataset.message)); } catch (e) { /* malformed: say nothing */ }
  }

  if (embedded) {
    var reportSize = function () {
      post({ source: "mock-psp", type: "checkout.resize", height: document.documentElement.scrollHeight });
    };
    window.addEventListener("load", reportSize);
    if (window.ResizeObserver) { new ResizeObserver(reportSize).observe(document.body); }
    // Keys pressed inside the frame never reach the page: report Esc so the modal closes.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { post({ source: "mock-psp", type: "checkout.closed" }); }
    });
  }

  var BRANDS = [
    ["American Express", /^3[47]/], ["Diners Club", /^3(0[0-5]|[689])/], ["JCB", /^35(2[89]|[3-8])/],
    ["Discover", /^(6011|64[4-9]|65)/], ["RuPay", /^(60|8[12])/], ["Maestro", /^(50|5[6-8]|67)/],
    ["Mastercard", /^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/], ["Visa", /^4/]
  ];

  function digits(value) { return value.replace(/\D/g, ""); }

  function luhn(number) {
    if (number.length < 8 || number.length > 19) { return false; }
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = +number[number.length - 1 - i];
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function brandOf(number) {
    for (var i = 0; i < BRANDS.length; i++) { if (BRANDS[i][1].test(number)) { return BRANDS[i][0]; } }
    return "";
  }

  function groupDigits(number) {
    var groups = /^3[47]/.test(number) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < groups.length && at < number.length; i++) { out.push(number.substr(at, groups[i])); at += groups[i]; }
    return out.join(" ");
  }

  function showError(field, show) {
    var input = document.getElementById(field);
    var message = document.getElementById(field + "-error");
    if (!input || !message) { return; }
    message.hidden = !show;
    input.setAttribute("aria-invalid", show ? "true" : "false");
    input.parentElement.classList.toggle("has-error", show);
  }

  var number = document.getElementById("card_number");
  var brand = document.querySelector("[data-test-id=card-brand]");
  if (number) {
    var refresh = function () {
      var raw = digits(number.value);
      number.value = groupDigits(raw.substr(0, 19));
      if (brand) { brand.textContent = brandOf(raw); }
      // Clear a shown error as soon as the number is right, while typing: clearing it on
      // blur would shift the Pay button away from under the pointer mid-click.
      if (number.getAttribute("aria-invalid") === "true" && luhn(raw)) { showError("card_number", false); }
    };
    number.addEventListener("input", refresh);
    number.addEventListener("blur", function () {
      var raw = digits(number.value);
      if (raw && !luhn(raw)) { showError("card_number", true); }
    });
    refresh();
  }

  var expiry = document.getElementById("expiry");
  if (expiry) {
    expiry.addEventListener("input", function (event) {
      var raw = digits(expiry.value).substr(0, 4);
      if (event.inputType === "deleteContentBackward") { return; }
      expiry.value = raw.length > 2 ? raw.substr(0, 2) + "/" + raw.substr(2) : raw;
    });
  }

  function fill(id, value) {
    var input = document.getElementById(id);
    if (input) { input.value = value; input.dispatchEvent(new Event("input")); showError(id, false); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-fill-number]"), function (button) {
    button.addEventListener("click", function () {
      fill("card_number", button.dataset.fillNumber);
      var now = new Date();
      fill("expiry", "12/" + String((now.getFullYear() + 3) % 100).padStart(2, "0"));
      fill("cvc", /^3[47]/.test(button.dataset.fillNumber) ? "1234" : "123");
      var name = document.getElementById("cardholder_name");
      if (name && !name.value) { fill("cardholder_name", "Test Cardholder"); }
      (document.querySelector("[data-test-id=pay-button]") || button).focus();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-fill-vpa]"), function (button) {
    button.addEventListener("click", function () { fill("vpa", button.dataset.fillVpa); });
  });

  function checkCardForm() {
    var problems = [];
    var raw = digits((document.getElementById("card_number") || {}).value || "");
    if (!luhn(raw)) { problems.push("card_number"); }
    var exp = ((document.getElementById("expiry") || {}).value || "").split("/");
    var month = +exp[0], year = +exp[1];
    var now = new Date();
    if (!(month >= 1 && month <= 12 && exp[1] && (2000 + (year % 100)) * 12 + month >= now.getFullYear() * 12 + now.getMonth() + 1)) {
      problems.push("expiry");
    }
    if (!/^\d{3,4}$/.test((document.getElementById("cvc") || {}).value || "")) { problems.push("cvc"); }
    if (!((document.getElementById("cardholder_name") || {}).value || "").trim()) { problems.push("cardholder_name"); }
    ["card_number", "expiry", "cvc", "cardholder_name"].forEach(function (f) { showError(f, problems.indexOf(f) >= 0); });
    return problems;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.pay-form"), function (form) {
    form.addEventListener("submit", function (event) {
      if (document.getElementById("card_number")) {
        var problems = checkCardForm();
        if (problems.length) { event.preventDefault(); document.getElementById(problems[0]).focus(); return; }
      }
      var button = form.querySelector("button[data-busy-text]");
      if (button) {
        if (button.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
        button.setAttribute("aria-busy", "true");
        button.textContent = button.dataset.busyText;
      }
    });
  });

  var summary = document.querySelector("[data-test-id=error-summary]");
  if (summary) { summary.focus(); }

  if (body.dataset.poll) {
    var poll = function () {
      fetch(body.dataset.poll, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (state) { if (state.stage !== "processing") { window.location.reload(); } })
        .catch(function () {});
    };
    setInterval(poll, 1000);
  }
}());
