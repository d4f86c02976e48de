// Report charts: each <canvas data-chart="{...}"> becomes a Chart.js chart. The same figures are in
// the table under it, so the page is complete without JavaScript and without colour.
(function () {
  "use strict";
  // Colours told apart by people with common colour-vision deficiencies (Okabe–Ito), plus a
  // dash pattern on lines; the legend names each series in words.
  var PALETTE = ["#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9"];
  function draw(canvas) {
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    var datasets = spec.series.map(function (s, i) {
      var colour = PALETTE[i % PALETTE.length];
      return { label: s.label, data: s.data, type: s.kind || spec.type, yAxisID: s.axis || "y",
               backgroundColor: colour, borderColor: colour, borderWidth: s.kind === "line" ? 3 : 1,
               borderDash: s.kind === "line" ? [6, 4] : [] };
    });
    var scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } } };
    if (spec.y2) { scales.y2 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }; }
    canvas.setAttribute("data-drawn", "1");
    return new window.Chart(canvas, {
      type: spec.type, data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: scales,
                 plugins: { legend: { position: "bottom" } } }
    });
  }
  function init() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
