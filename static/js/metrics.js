/* The metrics page: filters refresh the results region through htmx. Bad filters answer
   400 with the message in that region; htmx leaves error responses unswapped by default,
   so this lets the metrics results (and only them) show the message. */
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status === 400 && detail.target && detail.target.id === "metrics-results") {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
