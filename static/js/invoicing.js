/* Receipt form: says, as finance types, how much of the receipt is left over and so will be
   kept as customer credit. Wired by data attributes; the form works without it. */
(function () {
  "use strict";

  function cents(text) {
    var value = parseFloat(String(text || "").replace(/[^0-9.\-]/g, ""));
    return isFinite(value) ? Math.round(value * 100) : 0;
  }

  function update(form) {
    var note = form.querySelector("[data-receipt-remainder]");
    var amount = form.querySelector("[name=amount]");
    if (!note || !amount) return;
    var given = 0;
    form.querySelectorAll("input[name^='alloc-']").forEach(function (field) {
      given += cents(field.value);
    });
    var left = cents(amount.value) - given;
    var currency = (form.querySelector("[name=currency]") || {}).value || "";
    if (left > 0) {
      note.textContent = currency + " " + (left / 100).toFixed(2) + " will be kept as customer credit.";
    } else if (left < 0) {
      note.textContent = "The invoices are given " + currency + " " + (-left / 100).toFixed(2) +
        " more than the receipt.";
    } else {
      note.textContent = "The receipt is fully allocated.";
    }
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("[data-receipt-form]");
    if (form) update(form);
  });
})();
