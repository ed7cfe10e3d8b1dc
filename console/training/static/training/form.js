// The create forms (training, tuning): when another algorithm is picked, its hyperparameter
// fields (rendered by the server from the algorithm's schema) replace the previous ones.
(function () {
  "use strict";
  var select = document.getElementById("id_algorithm");
  var box = document.getElementById("hyperparameters");
  var target = document.getElementById("hyperparameter-fields");
  if (!select || !box || !target) { return; }
  select.addEventListener("change", function () {
    var url = box.dataset.url + "?algorithm=" + encodeURIComponent(select.value);
    target.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        target.innerHTML = html;
        document.dispatchEvent(new CustomEvent("hyperparameters-loaded", { detail: select.value }));
      })
      .catch(function () { target.textContent = "Could not load this algorithm's hyperparameters; reload the page."; })
      .finally(function () { target.removeAttribute("aria-busy"); });
  });
  var summary = document.getElementById("error-summary");
  if (summary && !document.querySelector("[autofocus]")) { summary.focus(); }
})();
