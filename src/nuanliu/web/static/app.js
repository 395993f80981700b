// Nuanliu dashboard charts. Every visible string comes from the server (translated
// there) inside the JSON the page embeds or fetches; this file holds no UI text.
(function () {
  "use strict";

  function readJson(source) {
    if (source.charAt(0) === "/") {
      return fetch(source, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }
    var el = document.getElementById(source);
    return Promise.resolve(el ? JSON.parse(el.textContent) : null);
  }

  function rateColor(rate) {
    if (rate === null || rate === undefined) return "#9ca3af";
    if (rate >= 98) return "#15803d";
    if (rate >= 90) return "#d97706";
    return "#b91c1c";
  }

  function tempColor(temp, standard) {
    if (temp === null || temp === undefined) return "#9ca3af";
    if (temp < standard - 2) return "#1d4ed8";
    if (temp < standard) return "#60a5fa";
    if (temp < 22) return "#16a34a";
    if (temp < 24) return "#f59e0b";
    return "#dc2626";
  }

  var builders = {
    trend: function (d) {
      return {
        tooltip: { trigger: "axis" },
        legend: { data: [d.labels.rate, d.labels.reporting], top: 0 },
        grid: { left: 50, right: 60, top: 36, bottom: 30 },
        xAxis: { type: "category", data: d.dates },
        yAxis: [
          { type: "value", name: d.labels.rate, min: function (v) { return Math.max(0, Math.floor(Math.min(v.min, d.target) - 5)); }, max: 100 },
          { type: "value", name: d.labels.reporting, splitLine: { show: false } }
        ],
        series: [
          { name: d.labels.rate, type: "line", data: d.rates, smooth: true, symbolSize: 8,
            itemStyle: { color: "#c2410c" }, connectNulls: false,
            markLine: { symbol: "none", lineStyle: { color: "#15803d", type: "dashed" },
              label: { formatter: d.labels.target }, data: [{ yAxis: d.target }] } },
          { name: d.labels.reporting, type: "bar", yAxisIndex: 1, data: d.reporting,
            itemStyle: { color: "rgba(29,78,216,0.18)" }, barWidth: "40%" }
        ]
      };
    },
    series: function (d) {
      var series = d.series.map(function (s) {
        return { name: s.name, type: "line", showSymbol: false, data: s.data };
      });
      if (series.length) {
        series[0].markLine = { symbol: "none", lineStyle: { color: "#b91c1c", type: "dashed", width: 2 },
          label: { formatter: d.labels.standard, position: "insideEndTop" }, data: [{ yAxis: d.standard }] };
      }
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v.toFixed(1) + " °C"; } },
        legend: { top: 0 },
        grid: { left: 50, right: 24, top: 36, bottom: 30 },
        xAxis: { type: "time" },
        yAxis: { type: "value", name: d.labels.temp, min: function (v) { return Math.floor(Math.min(v.min, d.standard) - 1); },
                 max: function (v) { return Math.ceil(Math.max(v.max, d.standard) + 1); } },
        series: series
      };
    },
    map: function (d) {
      var lines = d.pipes.map(function (p) { return { coords: [[p[0], p[1]], [p[2], p[3]]] }; });
      function tip(p) {
        var x = p.data || {};
        var parts = ["<b>" + x.name + "</b>"];
        if (x.households !== undefined) parts.push(d.labels.households + ": " + x.households);
        if (x.rate !== undefined) parts.push(d.labels.rate + ": " + (x.rate === null ? "–" : x.rate + "%"));
        if (x.temp !== undefined) parts.push(d.labels.temp + ": " + (x.temp === null ? "–" : x.temp + " °C"));
        return parts.join("<br>");
      }
      var pts = d.stations.concat(d.buildings);
      var xs = pts.map(function (p) { return p.value[0]; }).concat(d.pipes.map(function (p) { return p[0]; }));
      var ys = pts.map(function (p) { return p.value[1]; }).concat(d.pipes.map(function (p) { return p[1]; }));
      var pad = 0.01;
      return {
        tooltip: { trigger: "item", formatter: function (p) { return p.seriesType === "lines" ? d.labels.pipes : tip(p); } },
        legend: { top: 0, data: [d.labels.pipes, d.labels.stations, d.labels.buildings] },
        grid: { left: 60, right: 20, top: 36, bottom: 40 },
        xAxis: { type: "value", name: d.labels.lon, scale: true, min: xs.length ? Math.min.apply(null, xs) - pad : null,
                 max: xs.length ? Math.max.apply(null, xs) + pad : null, axisLabel: { formatter: function (v) { return v.toFixed(2); } } },
        yAxis: { type: "value", name: d.labels.lat, scale: true, min: ys.length ? Math.min.apply(null, ys) - pad : null,
                 max: ys.length ? Math.max.apply(null, ys) + pad : null, axisLabel: { formatter: function (v) { return v.toFixed(2); } } },
        dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "none" }, { type: "inside", yAxisIndex: 0, filterMode: "none" }],
        series: [
          { name: d.labels.pipes, type: "lines", coordinateSystem: "cartesian2d", polyline: false, data: lines,
            lineStyle: { color: "#c2410c", width: 2, opacity: 0.55 }, silent: false, z: 1 },
          { name: d.labels.buildings, type: "scatter", data: d.buildings, symbolSize: 7, z: 2,
            itemStyle: { color: function (p) { return tempColor(p.data.temp, d.standard); }, borderColor: "#fff", borderWidth: 0.5 } },
          { name: d.labels.stations, type: "scatter", data: d.stations, symbol: "rect", symbolSize: 13, z: 3,
            itemStyle: { color: function (p) { return rateColor(p.data.rate); }, borderColor: "#1f2937", borderWidth: 1 },
            label: { show: d.stations.length <= 40, formatter: function (p) { return p.data.name; }, position: "right", fontSize: 11 } }
        ]
      };
    }
  };

  function init(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    el.dataset.ready = "1";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    readJson(el.dataset.source).then(function (data) {
      if (!data) return;
      chart.setOption(builders[el.dataset.chart](data));
      el.dataset.rendered = "1";
      if (el.dataset.chart === "map") {
        chart.on("click", function (p) { if (p.data && p.data.href) window.location.href = p.data.href; });
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function initAll() {
    var charts = document.querySelectorAll("[data-chart]");
    if (!charts.length) return;
    if (typeof echarts === "undefined") {
      var s = document.createElement("script");
      s.src = document.body.dataset.echarts;
      s.onload = function () { charts.forEach(init); };
      document.head.appendChild(s);
      return;
    }
    charts.forEach(init);
  }

  document.addEventListener("DOMContentLoaded", initAll);
  document.addEventListener("htmx:afterSwap", initAll);
})();
