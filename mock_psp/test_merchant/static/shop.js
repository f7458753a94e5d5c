/* Opens the provider's checkout in a window over the page, then asks the server
   (not the browser) how the payment went: the return page fetches it from the provider. */
(function () {
  "use strict";
  var box = document.getElementById("checkout");
  if (!box || !window.MockPSP) { return; }
  var button = document.getElementById("open-checkout");
  var note = document.getElementById("closed-note");
  var back = function () { window.location.assign(box.dataset.returnUrl); };
  function open() {
    note.hidden = true;
    var options = { onSuccess: back, onFailure: back, onClose: function () { note.hidden = false; } };
    if (box.dataset.clientSecret) {
      options.clientSecret = box.dataset.clientSecret;
      options.publishableKey = box.dataset.publishableKey;
    } else {
      options.nextUrl = box.dataset.nextUrl;
    }
    window.MockPSP.checkout(options).open();
  }
  button.addEventListener("click", open);
  open();
}());
