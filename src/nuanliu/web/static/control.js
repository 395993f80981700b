// Dispatch page charts: line series from JSON the server embeds (all text translated
// there). A series with "dashed" is drawn dashed (the heating curve, the forecast).
(function () {
  "use strict";
  function draw(el) {
    var src = document.getElementById(el.dataset.controlChart);
    if (!src || typeof echarts === "undefined") return;
    var d = JSON.parse(src.textContent);
    if (!d) return;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: d.unit, scale: true },
      series: d.series.map(function (s) {
        return { name: s.name, type: s.points ? "scatter" : "line", showSymbol: !!s.points, data: s.data,
                 lineStyle: s.dashed ? { type: "dashed" } : {} };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-control-chart]").forEach(draw);
})();
