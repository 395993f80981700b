// Telemetry charts: measured (solid) beside the heating curve and the twin (dashed).
(function () {
  function load(src, done) {
    if (window.echarts) return done();
    var s = document.createElement("script");
    s.src = src; s.onload = done; document.head.appendChild(s);
  }
  var GROUPS = {
    temps: ["primary_supply_temp_c", "primary_return_temp_c", "secondary_supply_temp_c",
            "secondary_return_temp_c", "outdoor_temp_c", "curve_supply_c",
            "twin_primary_supply_temp_c", "twin_primary_return_temp_c"],
    dt: ["primary_delta_t_k", "secondary_delta_t_k"],
    heat: ["primary_heat_kw", "twin_primary_heat_kw", "primary_flow_m3_h", "twin_primary_flow_m3_h"]
  };
  function isFlow(n) { return /flow_m3_h$/.test(n); }
  function draw() {
    var el = document.getElementById("telemetry-data");
    if (!el) return;
    var data = JSON.parse(el.textContent);
    var labelsEl = document.getElementById("telemetry-labels");
    var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
    function label(n) {
      if (n.indexOf("twin_") === 0) return (labels.twin || "twin") + ": " + (labels[n.slice(5)] || n.slice(5));
      return labels[n] || n;
    }
    var all = Object.assign({}, data.measured, data.expected);
    document.querySelectorAll("[data-telemetry-chart]").forEach(function (box) {
      var names = GROUPS[box.getAttribute("data-telemetry-chart")].filter(function (n) { return all[n]; });
      var chart = echarts.init(box);
      chart.setOption({
        tooltip: { trigger: "axis" }, legend: { type: "scroll" },
        grid: { left: 48, right: 48, top: 60, bottom: 40 },
        xAxis: { type: "category", data: data.hours.map(function (h) { return h.slice(5, 16).replace("T", " "); }) },
        // Flow (m³/h) on a second axis: beside heat (kW) it would be a flat line.
        yAxis: [{ type: "value", scale: true }, { type: "value", scale: true, show: names.some(isFlow) }],
        series: names.map(function (n) {
          var expected = n.indexOf("twin_") === 0 || n === "curve_supply_c";
          return { name: label(n), type: "line", showSymbol: false, data: all[n],
                   yAxisIndex: isFlow(n) ? 1 : 0,
                   lineStyle: { type: expected ? "dashed" : "solid" } };
        })
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    load(document.body.getAttribute("data-echarts"), draw);
  });
})();
