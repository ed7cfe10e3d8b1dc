// The work queue's keyboard: 1-9 answer with that label, s skips, u or Ctrl+Z undoes.
(function () {
  "use strict";
  var sent = false;

  function press(selector) {
    var button = document.querySelector(selector);
    if (!button || sent) return false;
    sent = true; // one answer per page: a held key must not post twice
    button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      if (press("#undo button")) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var done = false;
    if (/^[1-9]$/.test(event.key)) {
      done = press('#labels button[data-key="' + event.key + '"]');
    } else if (event.key === "s" || event.key === "S") {
      done = press("#skip button");
    } else if (event.key === "u" || event.key === "U") {
      done = press("#undo button");
    }
    if (done) event.preventDefault();
  });
})();
