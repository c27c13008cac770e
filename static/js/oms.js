/* Small behaviours every page may use, wired by data attributes so templates carry no
   inline scripts or handlers (the Content Security Policy allows scripts from 'self' only).

     <select data-autosubmit>   submits its form as soon as the choice changes
*/
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });
})();
