/*!
 * mock-psp.js — the embeddable checkout of mock-psp, a local payment provider for tests.
 *
 *   <script src="http://127.0.0.1:8420/sdk/v1/mock-psp.js"></script>
 *   MockPSP.checkout({
 *     clientSecret: "pay_..._secret_...", publishableKey: "pk_snd_...",   // Hyperswitch
 *     // or nextUrl: payment._links.next_url.href                       // GOV.UK Pay
 *     // or checkoutUrl: "<a payment link or checkout URL>"
 *     onSuccess: function (result) {},   // {paymentId, status, dialect, amount, currency}
 *     onFailure: function (result) {},
 *     onClose: function () {}
 *   }).open();
 *
 * As a module: import { MockPSP, PaymentGateway } from "http://127.0.0.1:8420/sdk/v1/mock-psp.mjs";
 *
 * Messages from the checkout are accepted only from the provider's origin and
 * only from this SDK's own iframe; the checkout posts only to this page's origin,
 * which must be registered with the provider (PUT /_mock/config allowed_origins).
 * A success callback is a hint for the page: the merchant's backend must still
 * fetch the payment from the provider before it ships anything.
 * No dependencies.
 */
(function (global) {
  "use strict";

  var current = null; // the open checkout, if any: opening twice never stacks two modals

  function scriptOrigin() {
    var script = document.currentScript;
    return script && script.src ? new URL(script.src).origin : null;
  }

  var state = { origin: scriptOrigin() };

  function withParams(url, params) {
    var target = new URL(url, state.origin || undefined);
    Object.keys(params).forEach(function (key) { target.searchParams.set(key, params[key]); });
    return target.toString();
  }

  function checkoutSource(options) {
    var provider = state.origin;
    if (!provider) { throw new Error("mock-psp.js: cannot tell the provider's origin; load the SDK from the provider"); }
    var embed = { mode: "embedded", parent_origin: global.location.origin };
    if (options.clientSecret) {
      if (!options.publishableKey) { throw new Error("mock-psp.js: clientSecret needs publishableKey"); }
      return withParams(provider + "/checkout/embed", Object.assign({
        client_secret: options.clientSecret, publishable_key: options.publishableKey }, embed));
    }
    var url = options.nextUrl || options.checkoutUrl;
    if (!url) { throw new Error("mock-psp.js: give clientSecret and publishableKey, nextUrl, or checkoutUrl"); }
    if (new URL(url, provider).origin !== provider) {
      throw new Error("mock-psp.js: " + url + " is not on the provider " + provider);
    }
    return withParams(url, embed);
  }

  var STYLE = {
    overlay: "position:fixed;inset:0;z-index:2147483000;background:rgba(17,24,39,.55);display:flex;" +
      "align-items:center;justify-content:center;padding:16px;box-sizing:border-box;",
    dialog: "position:relative;width:100%;max-width:440px;max-height:100%;background:#fff;border-radius:14px;" +
      "box-shadow:0 20px 50px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;",
    close: "position:absolute;top:6px;right:6px;width:36px;height:36px;border:0;border-radius:50%;" +
      "background:#f1f2f5;color:#1f2430;font:22px/36px system-ui,sans-serif;cursor:pointer;z-index:1;",
    frame: "border:0;width:100%;height:560px;max-height:calc(100vh - 32px);display:block;"
  };

  function Checkout(options) {
    this.options = options || {};
    this.opened = false;
    this._onMessage = this._onMessage.bind(this);
    this._onKey = this._onKey.bind(this);
  }

  Checkout.prototype.open = function () {
    if (this.opened) { return this; }
    if (current && current !== this) { current.close(); }
    var src = checkoutSource(this.options);
    var doc = global.document;

    var overlay = doc.createElement("div");
    overlay.setAttribute("data-test-id", "payment-modal");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "Payment");
    overlay.style.cssText = STYLE.overlay;

    var dialog = doc.createElement("div");
    dialog.style.cssText = STYLE.dialog;

    var close = doc.createElement("button");
    close.type = "button";
    close.setAttribute("data-test-id", "close-modal-button");
    close.setAttribute("aria-label", "Close payment window");
    close.textContent = "\u00d7";
    close.style.cssText = STYLE.close;
    close.addEventListener("click", this.close.bind(this));

    var frame = doc.createElement("iframe");
    frame.setAttribute("data-test-id", "payment-iframe");
    frame.setAttribute("title", "Payment");
    frame.setAttribute("allow", "payment");
    frame.src = src;
    frame.style.cssText = STYLE.frame;

    // Focus stays in the dialog: tabbing past either end comes back round.
    var first = doc.createElement("span"), last = doc.createElement("span");
    first.tabIndex = 0;
    last.tabIndex = 0;
    first.addEventListener("focus", function () { frame.focus(); });
    last.addEventListener("focus", function () { close.focus(); });

    dialog.appendChild(first);
    dialog.appendChild(close);
    dialog.appendChild(frame);
    dialog.appendChild(last);
    overlay.appendChild(dialog);

    this._overflow = doc.body.style.overflow;
    this._previousFocus = doc.activeElement;
    doc.body.style.overflow = "hidden";
    doc.body.appendChild(overlay);
    global.addEventListener("message", this._onMessage);
    doc.addEventListener("keydown", this._onKey, true);

    this.overlay = overlay;
    this.frame = frame;
    this.closeButton = close;
    this.opened = true;
    current = this;
    frame.focus();
    return this;
  };

  Checkout.prototype.close = function (silent) {
    if (!this.opened) { return this; }
    var doc = global.document;
    global.removeEventListener("message", this._onMessage);
    doc.removeEventListener("keydown", this._onKey, true);
    this.overlay.parentNode.removeChild(this.overlay);
    doc.body.style.overflow = this._overflow;
    this.opened = false;
    if (current === this) { current = null; }
    if (this._previousFocus && this._previousFocus.focus) { this._previousFocus.focus(); }
    if (silent !== true && typeof this.options.onClose === "function") { this.options.onClose(); }
    return this;
  };

  // Only the provider's origin, only our own iframe, only the provider's message shape.
  Checkout.prototype._onMessage = function (event) {
    if (event.origin !== state.origin) { return; }
    if (!this.frame || event.source !== this.frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.source !== "mock-psp" || typeof data.type !== "string") { return; }
    var payment = data.payment || {};
    var result = { paymentId: payment.id, status: payment.status, dialect: payment.dialect,
                   amount: payment.amount, currency: payment.currency, type: data.type };
    if (data.type === "checkout.resize" && typeof data.height === "number") {
      this.frame.style.height = Math.min(Math.max(data.height, 200), 900) + "px";
    } else if (data.type === "payment.succeeded") {
      this.close(true);
      if (typeof this.options.onSuccess === "function") { this.options.onSuccess(result); }
    } else if (data.type === "payment.failed") {
      this.close(true);
      if (typeof this.options.onFailure === "function") { this.options.onFailure(result); }
    } else if (data.type === "payment.requires_action") {
      if (typeof this.options.onAction === "function") { this.options.onAction(result); }
    } else if (data.type === "checkout.closed") {
      this.close();
    }
  };

  // Esc closes (inside the checkout, the checkout reports Esc as checkout.closed).
  Checkout.prototype._onKey = function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  };

  var MockPSP = {
    version: "1",
    checkout: function (options) { return new Checkout(options); },
    get providerOrigin() { return state.origin; },
    _setOrigin: function (origin) { state.origin = origin; }
  };

  // The shape merchants know from other gateways: new PaymentGateway({key, orderId, ...}).open().
  // key: the publishable key; orderId: the payment's client secret (it names the payment).
  function PaymentGateway(options) {
    options = options || {};
    return new Checkout({
      publishableKey: options.key || options.publishableKey,
      clientSecret: options.clientSecret || options.orderId,
      nextUrl: options.nextUrl, checkoutUrl: options.checkoutUrl,
      onSuccess: options.onSuccess, onFailure: options.onFailure, onClose: options.onClose,
      onAction: options.onAction
    });
  }

  global.MockPSP = MockPSP;
  global.PaymentGateway = PaymentGateway;
}(typeof window !== "undefined" ? window : this));
