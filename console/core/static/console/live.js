/* Sagebrush console: the live parts of a job's page, refreshed in place (plain JavaScript, no CDN,
 * no build, nothing but this site fetched).
 *
 * - data-live-url="url" on an element with an id: every data-live-seconds (default 5) the element
 *   is replaced by the server-rendered fragment at that URL, which is the same template include
 *   that rendered it, with its own data-live-* attributes. It stops once a fragment says
 *   data-live-done (the job has ended) or the URL is gone (404, 410). It waits while the tab is
 *   hidden, a dialog is open, a text field inside has focus or text inside is selected; the
 *   boxes ticked and the values typed inside it, and the focus, survive the swap. When one part
 *   turns done, the page's other live parts are fetched first, so that nothing says "ended"
 *   before the rest has caught up. Each swap fires "live:swapped" (it bubbles) on the new element.
 * - data-since="2026-12-07T01:02:03Z": the element's text is the time since then, each second.
 * - data-follow on a scrolling element (a log): kept at its bottom as it grows, unless the user
 *   has scrolled up to read.
 */
(function () {
  "use strict";

  var parts = [];
  var TEXT_FIELD = "textarea, select, [contenteditable], input:not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button]):not([type=hidden])";

  function span(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), rest = seconds % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (hours) return hours + " h " + two(minutes) + " min";
    if (minutes) return minutes + " min " + two(rest) + " s";
    return rest + " s";
  }

  function tickCounters() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (element) {
      var since = Date.parse(element.getAttribute("data-since"));
      if (!isNaN(since)) element.textContent = span((now - since) / 1000);
    });
  }

  function atBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 8;
  }

  function follow(root) {
    root.querySelectorAll("[data-follow]").forEach(function (element) {
      element.scrollTop = element.scrollHeight;
    });
  }

  function busy(element) {
    var active = document.activeElement;
    if (active && element.contains(active) && active.matches(TEXT_FIELD)) return true;
    var selection = window.getSelection && window.getSelection();
    if (selection && !selection.isCollapsed && element.contains(selection.anchorNode)) return true;
    return !!document.querySelector("dialog[open]");
  }

  // What identifies a control (or a link) in the old and the new fragment alike.
  function key(node) {
    if (node.id) return "#" + node.id;
    if (node.name) return node.name + "=" + (node.type === "checkbox" || node.type === "radio" ? node.value : "");
    if (node.getAttribute && node.getAttribute("href")) return "href:" + node.getAttribute("href");
    return null;
  }

  function changedControls(element) {
    var changed = {};
    element.querySelectorAll("input, textarea, select").forEach(function (control) {
      var k = key(control);
      if (!k) return;
      if (control.type === "checkbox" || control.type === "radio") {
        if (control.checked !== control.defaultChecked) changed[k] = { checked: control.checked };
      } else if (control.tagName === "SELECT") {
        var chosen = control.selectedOptions[0];
        if (chosen && !chosen.defaultSelected) changed[k] = { value: control.value };
      } else if (control.value !== control.defaultValue) {
        changed[k] = { value: control.value };
      }
    });
    return changed;
  }

  function restoreControls(element, changed) {
    element.querySelectorAll("input, textarea, select").forEach(function (control) {
      var state = changed[key(control)];
      if (!state) return;
      if ("checked" in state) control.checked = state.checked;
      else control.value = state.value;
    });
  }

  function swap(part, html) {
    var old = part.element;
    if (html === part.html) return;
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh) return;
    var changed = changedControls(old);
    var active = document.activeElement;
    var focused = active && old.contains(active) ? key(active) : null;
    var scrolls = {};
    old.querySelectorAll("[data-follow]").forEach(function (element) {
      scrolls[key(element)] = atBottom(element) ? null : element.scrollTop;
    });
    old.replaceWith(fresh);
    part.element = fresh;
    part.html = html;
    restoreControls(fresh, changed);
    fresh.querySelectorAll("[data-follow]").forEach(function (element) {
      var top = scrolls[key(element)];
      element.scrollTop = top === undefined || top === null ? element.scrollHeight : top;
    });
    if (focused) {
      var again = Array.prototype.filter.call(fresh.querySelectorAll("*"), function (node) {
        return key(node) === focused;
      })[0];
      if (again && again.focus) again.focus({ preventScroll: true });
    }
    tickCounters();
    fresh.dispatchEvent(new CustomEvent("live:swapped", { bubbles: true }));
  }

  function isDone(element) {
    return !element.hasAttribute("data-live-url") || element.hasAttribute("data-live-done");
  }

  function fetchPart(part) {
    var url = part.element.getAttribute("data-live-url");
    return fetch(url, {
      headers: { "X-Requested-With": "fragment" },
      credentials: "same-origin",
      cache: "no-cache",
    }).then(function (response) {
      if (response.status === 404 || response.status === 410) {
        part.stopped = true;
        return null;
      }
      return response.ok ? response.text() : null;
    });
  }

  function schedule(part) {
    window.clearTimeout(part.timer);  // one pending poll per part, however it was reached
    if (part.stopped || isDone(part.element)) return;
    var seconds = parseFloat(part.element.getAttribute("data-live-seconds") || "5");
    part.timer = window.setTimeout(function () { poll(part); }, seconds * 1000);
  }

  function poll(part) {
    if (document.hidden || busy(part.element)) {
      schedule(part);
      return;
    }
    fetchPart(part)
      .then(function (html) {
        if (html === null) return null;
        var probe = document.createElement("template");
        probe.innerHTML = html.trim();
        var fresh = probe.content.firstElementChild;
        if (!fresh || !isDone(fresh)) return swap(part, html);
        // Ended: bring the other parts up to date before this one says so.
        var others = parts.filter(function (other) { return other !== part && !other.stopped && !isDone(other.element); });
        return Promise.all(others.map(function (other) {
          window.clearTimeout(other.timer);
          return fetchPart(other).then(function (text) {
            if (text !== null) swap(other, text);
            schedule(other);
          });
        })).then(function () { swap(part, html); });
      })
      .catch(function () {})
      .then(function () { schedule(part); });
  }

  function start() {
    document.querySelectorAll("[data-live-url]").forEach(function (element) {
      var part = { element: element, html: null, stopped: false, timer: null };
      parts.push(part);
      schedule(part);
    });
    follow(document);
    tickCounters();
    window.setInterval(tickCounters, 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) tickCounters();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
