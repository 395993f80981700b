// Nuanliu dashboard charts. Every visible string comes from the server (translated
// there) inside the JSON the page embeds or fetches; this file holds no UI text.
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");

  // The phone menu: one button opens and closes the navigation panel.
  function initMenu() {
    var button = document.querySelector(".menu-toggle");
    if (!button || button.dataset.ready) return;
    button.dataset.ready = "1";
    var bar = button.closest(".topbar");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && bar.classList.contains("open")) {
        bar.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  // Narrow screens get smaller chart margins and scrolling legends.
  function narrow(el) { return el.clientWidth < 560; }

  function readJson(source) {
    if (source.charAt(0) === "/") {
      return fetch(source, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }
    var el = document.getElementById(source);
    return Promise.resolve(el ? JSON.parse(el.textContent) : null);
  }

  var builders = {
    trend: function (d) {
      var temps = (d.indoor || []).concat(d.outdoor || []).filter(function (v) { return v !== null && v !== undefined; });
      var series = [
        { name: d.labels.rate, type: "line", data: d.rates, smooth: true, symbolSize: 7,
          itemStyle: { color: "#c2410c" }, connectNulls: false,
          markLine: { symbol: "none", lineStyle: { color: "#15803d", type: "dashed" },
            label: { formatter: d.labels.target, position: "insideEndTop" }, data: [{ yAxis: d.target }] } },
        { name: d.labels.reporting, type: "bar", yAxisIndex: 1, data: d.reporting,
          itemStyle: { color: "rgba(29,78,216,0.14)" }, barWidth: "40%" }
      ];
      var legend = [d.labels.rate, d.labels.reporting];
      var yAxis = [
        { type: "value", name: d.labels.rate, min: function (v) { return Math.max(0, Math.floor(Math.min(v.min, d.target) - 5)); }, max: 100 },
        { type: "value", name: d.labels.reporting, splitLine: { show: false }, show: !temps.length }
      ];
      if (temps.length) {
        // Temperatures share a third axis on the right; households reporting stay as bars.
        yAxis.push({ type: "value", name: "°C", position: "right", splitLine: { show: false },
          min: function (v) { return Math.floor(v.min - 2); }, max: function (v) { return Math.ceil(v.max + 2); } });
        series.push({ name: d.labels.indoor, type: "line", yAxisIndex: 2, data: d.indoor, symbol: "none",
          lineStyle: { color: "#7c3aed", width: 2 }, itemStyle: { color: "#7c3aed" } });
        series.push({ name: d.labels.outdoor, type: "line", yAxisIndex: 2, data: d.outdoor, symbol: "none",
          lineStyle: { color: "#0891b2", type: "dotted", width: 2 }, itemStyle: { color: "#0891b2" } });
        legend.push(d.labels.indoor, d.labels.outdoor);
      }
      return {
        tooltip: { trigger: "axis" },
        legend: { data: legend, top: 0 },
        grid: { left: 50, right: 50, top: 60, bottom: 30 },
        xAxis: { type: "category", data: d.dates },
        yAxis: yAxis,
        series: series
      };
    },
    curve: function (d) {
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v.toFixed(1) + " °C"; } },
        legend: { top: 0, data: [d.labels.supply, d.labels["return"], d.labels.now] },
        grid: { left: 50, right: 24, top: 40, bottom: 40 },
        xAxis: { type: "value", name: d.labels.outdoor, nameLocation: "middle", nameGap: 26, inverse: true,
                 axisLine: { onZero: false } },
        yAxis: { type: "value", name: "°C", scale: true, axisLine: { onZero: false } },
        series: [
          { name: d.labels.supply, type: "line", data: d.supply, symbol: "none", lineStyle: { color: "#c2410c" }, itemStyle: { color: "#c2410c" } },
          { name: d.labels["return"], type: "line", data: d["return"], symbol: "none", lineStyle: { color: "#1d4ed8" }, itemStyle: { color: "#1d4ed8" } },
          { name: d.labels.now, type: "scatter", data: [d.now], symbolSize: 14, itemStyle: { color: "#111827" } }
        ]
      };
    },
    series: function (d) {
      var series = d.series.map(function (s) {
        return { name: s.name, type: "line", showSymbol: false, data: s.data };
      });
      var outdoor = d.outdoor || [];
      if (series.length) {
        series[0].markLine = { symbol: "none", lineStyle: { color: "#b91c1c", type: "dashed", width: 2 },
          label: { formatter: d.labels.standard, position: "insideEndTop" }, data: [{ yAxis: d.standard }] };
      }
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v.toFixed(1) + " °C"; } },
        legend: { top: 0 },
        grid: { left: 50, right: 50, top: 60, bottom: 30 },
        xAxis: { type: "time" },
        yAxis: [{ type: "value", name: d.labels.temp, min: function (v) { return Math.floor(Math.min(v.min, d.standard) - 1); },
                 max: function (v) { return Math.ceil(Math.max(v.max, d.standard) + 1); } },
                { type: "value", name: d.labels.outdoor, show: outdoor.length > 0, splitLine: { show: false },
                  min: function (v) { return Math.floor(v.min - 1); }, max: function (v) { return Math.ceil(v.max + 1); } }],
        series: outdoor.length ? series.concat([{ name: d.labels.outdoor, type: "line", yAxisIndex: 1, showSymbol: false,
          data: outdoor, lineStyle: { color: "#0891b2", type: "dotted" }, itemStyle: { color: "#0891b2" } }]) : series
      };
    },
    map: function (d) {
      // A geographic view of equal scale (longitude shrunk by cos(latitude)) with zoom and
      // pan, drawn on an empty base map: nothing is fetched but the optional tiles.
      if (!echarts.getMap("nuanliu-blank")) {
        echarts.registerMap("nuanliu-blank", { type: "FeatureCollection", features: [] });
      }
      var b = d.bounds || [[111.0, 41.0], [112.0, 40.0]];
      var lat0 = (b[0][1] + b[1][1]) / 2;
      var lines = d.pipes.map(function (p) {
        return { coords: [[p[0], p[1]], [p[2], p[3]]], lineStyle: { width: Math.max(1, Math.min(6, (p[4] || 300) / 300)) } };
      });
      function tip(p) {
        var x = p.data || {};
        var parts = ["<b>" + x.name + "</b>"];
        if (x.households !== undefined) parts.push(d.labels.households + ": " + x.households);
        if (x.rate !== undefined) parts.push(d.labels.rate + ": " + (x.rate === null ? "–" : x.rate + "%"));
        if (x.temp !== undefined) parts.push(d.labels.temp + ": " + (x.temp === null ? "–" : x.temp + " °C"));
        return parts.join("<br>");
      }
      // The third value drives the colour (visualMap): mean temperature or compliance.
      var buildings = d.buildings.map(function (x) {
        return Object.assign({}, x, { value: [x.value[0], x.value[1], x.temp === null ? -99 : x.temp] });
      });
      var stations = d.stations.map(function (x) {
        return Object.assign({}, x, { value: [x.value[0], x.value[1], x.rate === null ? -1 : x.rate] });
      });
      var std = d.standard, target = d.target;
      var narrowView = false;
      return {
        animation: false,
        tooltip: { trigger: "item", formatter: function (p) { return p.seriesType === "lines" ? d.labels.pipes : tip(p); } },
        legend: { top: 0, left: 0, data: [d.labels.pipes, d.labels.sources, d.labels.stations, d.labels.buildings] },
        geo: { map: "nuanliu-blank", roam: true, boundingCoords: b, aspectScale: Math.cos(lat0 * Math.PI / 180),
               top: 40, bottom: 10, left: 10, right: 10, scaleLimit: { min: 0.05, max: 200 }, silent: true,
               itemStyle: { areaColor: "transparent", borderWidth: 0 } },
        visualMap: [
          { type: "piecewise", seriesIndex: 3, dimension: 2, right: 0, top: 40, text: [d.labels.legend_temp],
            showLabel: true, textGap: 6, itemWidth: 12, itemHeight: 9, outOfRange: { color: "#9ca3af" }, textStyle: { fontSize: 11 },
            pieces: [
              { lt: d.cold, gt: -50, color: "#1d4ed8", label: "< " + d.cold + " °C" },
              { gte: d.cold, lt: std, color: "#60a5fa", label: d.cold + "–" + std + " °C" },
              { gte: std, lt: std + 4, color: "#16a34a", label: std + "–" + (std + 4) + " °C" },
              { gte: std + 4, lte: d.overheat, color: "#f59e0b", label: (std + 4) + "–" + d.overheat + " °C" },
              { gt: d.overheat, color: "#dc2626", label: "> " + d.overheat + " °C" }
            ] },
          { type: "piecewise", seriesIndex: 2, dimension: 2, right: 0, bottom: 10, text: [d.labels.legend_rate],
            showLabel: true, textGap: 6, itemWidth: 12, itemHeight: 9, itemSymbol: "rect", outOfRange: { color: "#9ca3af" }, textStyle: { fontSize: 11 },
            pieces: [
              { gte: target, lte: 100, color: "#15803d", label: "≥ " + target + "%" },
              { gte: Math.max(0, target - 8), lt: target, color: "#d97706", label: Math.max(0, target - 8) + "–" + target + "%" },
              { gte: 0, lt: Math.max(0, target - 8), color: "#b91c1c", label: "< " + Math.max(0, target - 8) + "%" }
            ] }
        ],
        series: [
          { name: d.labels.pipes, type: "lines", coordinateSystem: "geo", polyline: false, data: lines, silent: true,
            lineStyle: { color: "#c2410c", opacity: 0.55 }, z: 1 },
          { name: d.labels.sources, type: "scatter", coordinateSystem: "geo", data: d.sources, symbol: "diamond", symbolSize: 18, z: 4,
            itemStyle: { color: "#7c2d12", borderColor: "#fff", borderWidth: 1 },
            label: { show: true, formatter: function (p) { return p.data.name; }, position: "right", fontSize: 11 } },
          { name: d.labels.stations, type: "scatter", coordinateSystem: "geo", data: stations, symbol: "rect", symbolSize: 12, z: 3,
            itemStyle: { borderColor: "#1f2937", borderWidth: 1 }, labelLayout: { hideOverlap: true },
            label: { show: stations.length <= 40 && !narrowView, formatter: function (p) { return p.data.name; }, position: "right", fontSize: 11 } },
          { name: d.labels.buildings, type: "scatter", coordinateSystem: "geo", data: buildings, symbolSize: 7, z: 2,
            itemStyle: { borderColor: "#fff", borderWidth: 0.5 } }
        ]
      };
    }
  };

  // Optional raster tiles under the schematic map (NUANLIU_MAP_TILE_URL, off by default).
  function tileLon(x, z) { return x / Math.pow(2, z) * 360 - 180; }
  function tileLat(y, z) {
    var n = Math.PI - 2 * Math.PI * y / Math.pow(2, z);
    return 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)));
  }
  function lonTile(lon, z) { return Math.floor((lon + 180) / 360 * Math.pow(2, z)); }
  function latTile(lat, z) {
    var r = lat * Math.PI / 180;
    return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * Math.pow(2, z));
  }
  function drawTiles(chart, url) {
    // The visible lon/lat window of the geo view, from its corners in pixels.
    var nw = chart.convertFromPixel({ geoIndex: 0 }, [0, 0]);
    var se = chart.convertFromPixel({ geoIndex: 0 }, [chart.getWidth(), chart.getHeight()]);
    if (!nw || !se) return;
    var x = [Math.min(nw[0], se[0]), Math.max(nw[0], se[0])];
    var y = [Math.min(nw[1], se[1]), Math.max(nw[1], se[1])];
    var width = chart.getWidth();
    var z = Math.max(1, Math.min(18, Math.round(Math.log2(360 * width / 256 / Math.max(x[1] - x[0], 1e-6)))));
    var images = [];
    for (var tx = lonTile(x[0], z); tx <= lonTile(x[1], z) && images.length < 200; tx++) {
      for (var ty = latTile(y[1], z); ty <= latTile(y[0], z) && images.length < 200; ty++) {
        var a = chart.convertToPixel({ geoIndex: 0 }, [tileLon(tx, z), tileLat(ty, z)]);
        var b = chart.convertToPixel({ geoIndex: 0 }, [tileLon(tx + 1, z), tileLat(ty + 1, z)]);
        images.push({ type: "image", z: -10, silent: true, style: {
          image: url.replace("{z}", z).replace("{x}", tx).replace("{y}", ty),
          x: a[0], y: a[1], width: b[0] - a[0], height: b[1] - a[1], opacity: 0.7 } });
      }
    }
    chart.setOption({ graphic: [{ id: "tiles", type: "group", children: images }] }, { replaceMerge: ["graphic"] });
  }

  function init(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    el.dataset.ready = "1";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    readJson(el.dataset.source).then(function (data) {
      if (!data) return;
      var option = builders[el.dataset.chart](data);
      if (narrow(el)) {
        if (option.legend) option.legend = Object.assign({}, option.legend, { type: "scroll" });
        if (el.dataset.chart === "map") {
          // Phones: both colour keys in a row under the map, the map above them.
          option.visualMap.forEach(function (v, i) {
            Object.assign(v, { orient: "horizontal", left: 0, right: null, top: null, bottom: i === 0 ? 30 : 0, text: null, itemGap: 4, textStyle: { fontSize: 10 } });
          });
          option.geo = Object.assign({}, option.geo, { bottom: 64 });
          option.series[2].label.show = false;
        }
        if (option.grid && !Array.isArray(option.grid)) {
          option.grid = Object.assign({}, option.grid, { left: 40, right: el.dataset.chart === "map" ? 10 : 40 });
        }
      }
      chart.setOption(option);
      el.dataset.rendered = "1";
      if (el.dataset.chart === "map") {
        chart.on("click", function (p) { if (p.data && p.data.href) window.location.href = p.data.href; });
        if (data.tile_url) {
          drawTiles(chart, data.tile_url);
          chart.on("georoam", function () { drawTiles(chart, data.tile_url); });
          window.addEventListener("resize", function () { drawTiles(chart, data.tile_url); });
        }
      }
    });
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    } else {
      window.addEventListener("resize", function () { chart.resize(); });
    }
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

  document.addEventListener("DOMContentLoaded", initMenu);
  document.addEventListener("DOMContentLoaded", initAll);
  document.addEventListener("htmx:afterSwap", initAll);
})();

// A <select data-autosubmit> submits its form when changed (no inline handlers: strict CSP).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
  }
});
