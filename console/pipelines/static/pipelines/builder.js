// The pipeline builder: a stage's fields show only while the stage is chosen. Without this
// script every field shows, and the form works the same.
(function () {
  "use strict";
  var form = document.getElementById("builder");
  if (!form) return;

  function chosen(stage) {
    if (stage === "tuning") {
      var picked = form.querySelector("input[name=trainer]:checked");
      return picked !== null && picked.value === "tuning";
    }
    var box = form.querySelector("input[name=" + stage + "]");
    return box !== null && box.checked;
  }

  function update() {
    form.querySelectorAll("[data-when]").forEach(function (section) {
      section.hidden = !chosen(section.getAttribute("data-when"));
    });
  }

  form.addEventListener("change", update);
  update();
})();
