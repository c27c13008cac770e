/* Django admin, periodic task form: say in words what the chosen crontab means (the
   behaviour django-celery-beat ships as an inline script, which our policy refuses). */
(function () {
  "use strict";
  var script = document.currentScript;
  var originalHelp = (script && script.dataset.crontabHelp) || "";

  function run() {
    var $ = window.django && window.django.jQuery;
    var data = document.getElementById("readable-crontabs");
    if (!$ || !data) return;
    var readable = JSON.parse(data.textContent);
    $(".field-crontab_translation").hide();
    $(".field-crontab").on("change", function () {
      var help = $(".field-crontab .help");
      help.text(originalHelp);
      help.append(document.createElement("br"));
      help.append(document.createTextNode("Translation: " + readable[$("#id_crontab").val()]));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
