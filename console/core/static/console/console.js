/* Sagebrush console: the few behaviours every page shares, in plain JavaScript (no CDN, no build).
 *
 * - data-confirm="message" on a <form> (or on a submit <button>): asks in a native <dialog>
 *   before the form is sent; Cancel (or Escape) sends nothing.
 * (Parts of a page that refresh themselves are live.js's: data-live-url.)
 * - data-copy="text" on a button: copies the text (an s3:// URI, an ARN) to the clipboard.
 * - data-dropzone on an upload <form>: files dropped on it are uploaded as if chosen.
 * - data-focus on an element (a form's error summary): focused when the page opens.
 */
(function () {
  "use strict";

  var dialog = null;

  function confirmDialog(message, onYes) {
    if (typeof HTMLDialogElement !== "function") {
      if (window.confirm(message)) onYes();
      return;
    }
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "confirm";
      dialog.setAttribute("aria-labelledby", "confirm-message");
      dialog.innerHTML =
        '<form method="dialog"><p id="confirm-message"></p>' +
        '<div class="actions"><button value="cancel" class="secondary">Cancel</button>' +
        '<button value="yes" class="danger" id="confirm-yes">Yes, go on</button></div></form>';
      document.body.appendChild(dialog);
    }
    dialog.querySelector("#confirm-message").textContent = message;
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue === "yes") onYes();
    };
    dialog.showModal();
    dialog.querySelector(".secondary").focus();
  }

  // A confirmed submit sends the form once, with the button that was pressed.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var submitter = event.submitter || null;
      var message =
        (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (!message || form.dataset.confirmed === "yes") return;
      event.preventDefault();
      confirmDialog(message, function () {
        form.dataset.confirmed = "yes";
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
        form.dataset.confirmed = "";
      });
    },
    true
  );

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () {
        button.textContent = label;
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        window.prompt("Copy:", text);
      });
    } else {
      window.prompt("Copy:", text);
    }
  });

  function dropzone(form) {
    var input = form.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () {
        form.classList.remove("dragging");
      });
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
      input.files = event.dataTransfer.files;
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    });
  }

  function start() {
    document.querySelectorAll("form[data-dropzone]").forEach(dropzone);
    var first = document.querySelector("[data-focus]");
    if (first) first.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
