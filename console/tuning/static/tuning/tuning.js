// A tuning job's page: sortable trials table, parallel coordinates with per-parameter toggles,
// and the surrogate's mean ± std along one parameter. Plain DOM and SVG, nothing fetched from
// elsewhere than this site. While the job runs, console/live.js swaps in new trials (with their
// data): the table keeps its sort, the plots are redrawn, the surrogate refitted when a trial ends.
(function () {
  "use strict";
  var script = document.currentScript;
  function readData() { return JSON.parse(document.getElementById("tuning-data").textContent); }
  var data = readData();
  var SVG = "http://www.w3.org/2000/svg";
  var HIDDEN_KEY = "tuning-hidden:" + location.pathname;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, content, anchor, extra) {
    var t = el("text", Object.assign({ x: x, y: y, "font-size": 11, "text-anchor": anchor || "start", fill: "#333" }, extra || {}), parent);
    t.textContent = content;
    return t;
  }
  function fmt(v) {
    if (typeof v !== "number") return String(v);
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toPrecision(4));
  }
  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  // An axis maps a parameter's values to [0, 1] on its own scale.
  function axisFor(p) {
    if (p.kind === "Categorical") {
      var n = p.values.length;
      return { unit: function (v) { var i = p.values.indexOf(v); return n === 1 ? 0.5 : i / (n - 1); },
               ticks: p.values.map(function (v, i) { return [n === 1 ? 0.5 : i / (n - 1), v]; }) };
    }
    var warp = function (x) { return x; };
    if (p.scale === "Logarithmic") warp = Math.log;
    if (p.scale === "ReverseLogarithmic") warp = function (x) { return -Math.log(1 - x); };
    var lo = warp(p.min), hi = warp(p.max);
    return { unit: function (v) { return (warp(parseFloat(v)) - lo) / (hi - lo || 1); },
             ticks: [[0, fmt(p.min)], [1, fmt(p.max)]] };
  }
  function valueAxis(values) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (lo === hi) { lo -= 1; hi += 1; }
    return { unit: function (v) { return (v - lo) / (hi - lo); }, ticks: [[0, fmt(lo)], [1, fmt(hi)]] };
  }
  // Better trials are greener; worse ones amber.
  function colourFor(rank) {
    var r = Math.round(62 + rank * (194 - 62)), g = Math.round(120 + rank * (124 - 120)), b = Math.round(57 + rank * (14 - 57));
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  // -- sortable table -------------------------------------------------------------------------
  var sorted = null;  // {column, ascending}: kept across refreshes of the table

  function sortRows(table, column, ascending) {
    var th = table.tHead.rows[0].cells[column];
    if (!th) return;
    var numeric = th.dataset.type === "number";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { delete c.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
      if (numeric) {
        x = x === "" ? Infinity : parseFloat(x);
        y = y === "" ? Infinity : parseFloat(y);
        return ascending ? x - y : y - x;
      }
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
  }

  function bindSortable() {
    var table = document.getElementById("trials");
    if (!table) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.style.cursor = "pointer";
      th.title = "Sort";
      th.addEventListener("click", function () {
        var ascending = th.dataset.order !== "asc";
        sorted = { column: column, ascending: ascending };
        sortRows(table, column, ascending);
      });
    });
    if (sorted) sortRows(table, sorted.column, sorted.ascending);
  }
  bindSortable();

  // -- parallel coordinates -------------------------------------------------------------------
  var parallel = document.getElementById("parallel");
  var hidden = JSON.parse(sessionStorage.getItem(HIDDEN_KEY) || "[]");
  document.querySelectorAll("#parallel-toggles input").forEach(function (box) {
    box.checked = hidden.indexOf(box.dataset.parameter) < 0;
    box.addEventListener("change", function () {
      hidden = Array.prototype.filter.call(
        document.querySelectorAll("#parallel-toggles input"), function (b) { return !b.checked; }
      ).map(function (b) { return b.dataset.parameter; });
      sessionStorage.setItem(HIDDEN_KEY, JSON.stringify(hidden));
      drawParallel();
    });
  });

  function drawParallel() {
    clear(parallel);
    var scored = data.rows.filter(function (r) { return r.value !== null; });
    var shown = data.parameters.filter(function (p) { return hidden.indexOf(p.name) < 0; });
    if (!scored.length) { text(parallel, 10, 20, "No trial has an objective value yet."); return; }
    var axes = shown.map(function (p) { return { name: p.name, axis: axisFor(p), key: function (r) { return r.hyperparameters[p.name]; } }; });
    var values = scored.map(function (r) { return r.value; });
    axes.push({ name: data.metric_name, axis: valueAxis(values), key: function (r) { return r.value; } });
    var width = +parallel.getAttribute("width"), height = +parallel.getAttribute("height");
    var left = 60, right = 60, top = 24, bottom = 30;
    var step = axes.length > 1 ? (width - left - right) / (axes.length - 1) : 0;
    var sx = function (i) { return axes.length > 1 ? left + i * step : width / 2; };
    var sy = function (u) { return top + (1 - u) * (height - top - bottom); };
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var better = data.objective_type === "Maximize" ? -1 : 1;
    scored.forEach(function (r) {
      var rank = scored.length > 1 ? sorted.indexOf(r.value) / (scored.length - 1) : 0;
      if (better < 0) rank = 1 - rank;
      var points = axes.map(function (a, i) { return sx(i).toFixed(1) + "," + sy(a.axis.unit(a.key(r))).toFixed(1); });
      var line = el("polyline", { points: points.join(" "), fill: "none", stroke: colourFor(rank), "stroke-width": 1.6, opacity: 0.85 }, parallel);
      el("title", {}, line).textContent = r.name + ": " + fmt(r.value);
    });
    axes.forEach(function (a, i) {
      el("line", { x1: sx(i), x2: sx(i), y1: sy(0), y2: sy(1), stroke: "#555" }, parallel);
      var anchor = axes.length > 1 && i === 0 ? "start" : axes.length > 1 && i === axes.length - 1 ? "end" : "middle";
      text(parallel, sx(i), 14, a.name, anchor, { "font-weight": "bold" });
      a.axis.ticks.forEach(function (t) { text(parallel, sx(i) + 4, sy(t[0]) + 4, t[1]); });
    });
  }

  // -- surrogate --------------------------------------------------------------------------------
  var surrogate = document.getElementById("surrogate");
  var choice = document.getElementById("surrogate-parameter");
  var note = document.getElementById("surrogate-note");

  function drawSurrogate(body) {
    clear(surrogate);
    note.textContent = "";
    var s = body.slice;
    if (!s) { note.textContent = "The surrogate needs at least three completed trials with different values."; return; }
    var p = data.parameters.filter(function (q) { return q.name === s.parameter; })[0];
    var axis = axisFor(p);
    var observed = data.rows.filter(function (r) { return r.value !== null; });
    var ys = s.lower.concat(s.upper, s.mean, observed.map(function (r) { return r.value; }));
    var yAxis = valueAxis(ys);
    var width = +surrogate.getAttribute("width"), height = +surrogate.getAttribute("height");
    var left = 60, right = 16, top = 12, bottom = 30;
    var sx = function (v) { return left + axis.unit(v) * (width - left - right); };
    var sy = function (y) { return top + (1 - yAxis.unit(y)) * (height - top - bottom); };
    el("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, fill: "#fff", stroke: "#d9dfd6" }, surrogate);
    if (p.kind === "Categorical") {
      s.values.forEach(function (v, i) {
        el("line", { x1: sx(v), x2: sx(v), y1: sy(s.lower[i]), y2: sy(s.upper[i]), stroke: "#9fb59a", "stroke-width": 8 }, surrogate);
        el("circle", { cx: sx(v), cy: sy(s.mean[i]), r: 4, fill: "#3e5239" }, surrogate);
      });
    } else {
      var upper = s.values.map(function (v, i) { return sx(v).toFixed(1) + "," + sy(s.upper[i]).toFixed(1); });
      var lower = s.values.map(function (v, i) { return sx(v).toFixed(1) + "," + sy(s.lower[i]).toFixed(1); }).reverse();
      el("polygon", { points: upper.concat(lower).join(" "), fill: "#cfdccb", stroke: "none" }, surrogate);
      el("polyline", { points: s.values.map(function (v, i) { return sx(v).toFixed(1) + "," + sy(s.mean[i]).toFixed(1); }).join(" "), fill: "none", stroke: "#3e5239", "stroke-width": 2 }, surrogate);
    }
    observed.forEach(function (r) {
      var dot = el("circle", { cx: sx(r.hyperparameters[p.name]), cy: sy(r.value), r: 3, fill: "#c27c0e" }, surrogate);
      el("title", {}, dot).textContent = r.name + ": " + fmt(r.value);
    });
    axis.ticks.forEach(function (t) { text(surrogate, left + t[0] * (width - left - right), height - 10, t[1], "middle"); });
    yAxis.ticks.forEach(function (t) { text(surrogate, left - 4, sy(t[0] === 0 ? Math.min.apply(null, ys) : Math.max.apply(null, ys)) + 4, t[1], "end"); });
    text(surrogate, left + (width - left - right) / 2, height - 10, p.name + (p.scale === "Logarithmic" ? " (log scale)" : ""), "middle");
  }

  function loadSurrogate() {
    if (!choice || !choice.value) return;
    var url = script.dataset.surrogateUrl + "?parameter=" + encodeURIComponent(choice.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(drawSurrogate)
      .catch(function (error) { note.textContent = "Could not load the surrogate: " + error; });
  }

  function endedCount() { return data.rows.filter(function (r) { return r.value !== null; }).length; }

  drawParallel();
  if (choice) {
    choice.addEventListener("change", loadSurrogate);
    loadSurrogate();
  }

  document.addEventListener("live:swapped", function (event) {
    if (event.target.id !== "trials-live") return;
    var ended = endedCount();
    data = readData();
    bindSortable();
    drawParallel();
    if (endedCount() !== ended) loadSurrogate();
  });
})();
