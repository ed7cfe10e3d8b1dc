// The create forms (training, tuning): when another algorithm is picked, its hyperparameter
// fields (rendered by the server from the algorithm's schema) replace the previous ones. On the
// tuning form, picking an objective metric proposes its direction (auc up, loss down).
(function () {
  "use strict";
  var MAXIMIZED = /(auc|accuracy|precision|recall|f1|f_beta|ndcg|map|r2|explained_variance|aucpr)$/;

  function proposeDirection() {
    var metric = document.getElementById("id_objective_metric");
    var direction = document.getElementById("id_objective_type");
    if (!metric || !direction || !metric.value) { return; }
    direction.value = MAXIMIZED.test(metric.value) ? "Maximize" : "Minimize";
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_objective_metric") { proposeDirection(); }
  });

  var select = document.getElementById("id_algorithm");
  var box = document.getElementById("hyperparameters");
  var target = document.getElementById("hyperparameter-fields");
  if (select && box && target) {
    select.addEventListener("change", function () {
      var url = box.dataset.url + "?algorithm=" + encodeURIComponent(select.value);
      target.setAttribute("aria-busy", "true");
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { target.innerHTML = html; proposeDirection(); })
        .catch(function () { target.textContent = "Could not load this algorithm's hyperparameters; reload the page."; })
        .finally(function () { target.removeAttribute("aria-busy"); });
    });
  }

  // After a refused submit the server marked the first invalid field autofocus; otherwise the
  // summary itself takes the focus so that a screen reader reads it first.
  var summary = document.getElementById("error-summary");
  if (summary && !document.querySelector("[autofocus]")) { summary.focus(); }
})();
