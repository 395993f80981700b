/* Hotline pages: live SLA countdowns and the statistics charts (trend, station map). */
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "zh";

  function fmt(minutes) {
    var m = Math.abs(minutes), over = minutes < 0;
    var n = m < 120 ? Math.floor(m) : Math.floor(m / 60);
    var unit = m < 120 ? (lang === "en" ? " min" : " 分钟") : (lang === "en" ? " h" : " 小时");
    if (lang === "en") return over ? n + unit + " overdue" : n + unit + " left";
    return over ? "超时 " + n + unit : "剩 " + n + unit;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      if (!el.dataset.due) return;
      var minutes = (Date.parse(el.dataset.due) - now) / 60000;
      el.textContent = fmt(minutes);
      var card = el.closest(".hl-card");
      if (card) {
        card.classList.remove("sla-ok", "sla-warn", "sla-over");
        card.classList.add(minutes < 0 ? "sla-over" : minutes < 30 ? "sla-warn" : "sla-ok");
      }
    });
  }

  function readJson(source) {
    if (source.charAt(0) === "/") {
      return fetch(source, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }
    var el = document.getElementById(source);
    return Promise.resolve(el ? JSON.parse(el.textContent) : null);
  }

  var builders = {
    trend: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { left: 40, right: 40, top: 36, bottom: 30 },
        xAxis: { type: "category", data: d.days },
        yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
        series: [
          { name: d.labels.opened, type: "bar", data: d.opened },
          { name: d.labels.closed, type: "bar", data: d.closed },
          { name: d.labels.breach, type: "line", yAxisIndex: 1, data: d.breach, connectNulls: true }
        ]
      };
    },
    map: function (d) {
      var pts = d.features.map(function (f) {
        var p = f.properties;
        return { name: lang === "en" ? (p.name_en || p.name_zh) : p.name_zh,
                 value: [f.geometry.coordinates[0], f.geometry.coordinates[1], p.per_1000_households || 0, p.opened] };
      });
      return {
        tooltip: { formatter: function (p) { return p.data.name + "<br>" + p.data.value[3] + " · " + p.data.value[2].toFixed(1) + "‰"; } },
        grid: { left: 50, right: 20, top: 20, bottom: 30 },
        xAxis: { type: "value", scale: true }, yAxis: { type: "value", scale: true },
        visualMap: { dimension: 2, min: 0, max: Math.max.apply(null, pts.map(function (p) { return p.value[2]; }).concat([1])),
                     inRange: { color: ["#16a34a", "#f59e0b", "#b91c1c"] }, orient: "horizontal", left: "center", bottom: 0 },
        series: [{ type: "scatter", data: pts, symbolSize: function (v) { return 6 + Math.sqrt(v[3]) * 2; } }]
      };
    }
  };

  function charts() {
    var els = document.querySelectorAll("[data-hl-chart]");
    if (!els.length) return;
    function draw() {
      els.forEach(function (el) {
        var chart = echarts.init(el);
        readJson(el.dataset.source).then(function (d) {
          if (d) { chart.setOption(builders[el.dataset.hlChart](d)); el.dataset.rendered = "1"; }
        });
        window.addEventListener("resize", function () { chart.resize(); });
      });
    }
    if (typeof echarts !== "undefined") return draw();
    var s = document.createElement("script");
    s.src = document.body.dataset.echarts;
    s.onload = draw;
    document.head.appendChild(s);
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
    charts();
  });
})();
