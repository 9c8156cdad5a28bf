/* The Evidence page's forest plot on uPlot (served from /static/vendor; no inline scripts under the CSP).
 *
 * Markup: <div id="forest-plot" class="forest" data-rows='[{group, label, unit, estimate, lo, hi, mde_lo,
 * mde_hi, verdict, metric, family, kind, lag}, ...]'> (web/evidence_text.py builds the rows from the report
 * JSON, in natural units). Rows come grouped by claim; each row gets its own small plot on its own scale,
 * because the units differ (% of RMSSD, bpm, minutes, points): a dot for the average change, a line for the
 * 95 % range, a vertical line at no change, and a grey band for changes too small to detect with the data
 * so far. Each row element records where its dot and range ended up (data-px-*), for the browser tests.
 */
"use strict";

(() => {
  const VERDICT_COLORS = { improved: "#15803d", worsened: "#b42318" };
  const DEFAULT_COLOR = "#1f2328";
  const ROW_HEIGHT = 58;

  function tick(value, unit) {
    const rounded = Math.abs(value) >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
    const sign = rounded > 0 ? "+" : rounded < 0 ? "−" : "";
    const space = unit === "%" ? "" : " ";
    return `${sign}${Math.abs(rounded)}${space}${unit}`;
  }

  function range(row) {
    const values = [row.lo, row.hi, 0];
    if (row.mde_lo !== null) values.push(row.mde_lo, row.mde_hi);
    let min = Math.min(...values);
    let max = Math.max(...values);
    const pad = (max - min || 1) * 0.08;
    return [min - pad, max + pad];
  }

  function drawRow(u, row, el) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const mid = top + height / 2;
    const px = (v) => u.valToPos(v, "x", true);
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    if (row.mde_lo !== null) {
      ctx.fillStyle = "rgba(120, 120, 120, 0.18)";
      const x0 = Math.max(left, px(row.mde_lo));
      ctx.fillRect(x0, top, Math.min(left + width, px(row.mde_hi)) - x0, height);
    }
    ctx.strokeStyle = "#5b636d";
    ctx.lineWidth = dpr;
    ctx.setLineDash([4 * dpr, 3 * dpr]);
    ctx.beginPath();
    ctx.moveTo(px(0), top);
    ctx.lineTo(px(0), top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    const color = VERDICT_COLORS[row.verdict] || DEFAULT_COLOR;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2.5 * dpr;
    ctx.beginPath();
    ctx.moveTo(px(row.lo), mid);
    ctx.lineTo(px(row.hi), mid);
    for (const end of [row.lo, row.hi]) {
      ctx.moveTo(px(end), mid - 6 * dpr);
      ctx.lineTo(px(end), mid + 6 * dpr);
    }
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(px(row.estimate), mid, 5.5 * dpr, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
    // CSS pixels from the plot's canvas, for tests and for anyone inspecting the page
    el.dataset.pxEstimate = String(u.valToPos(row.estimate, "x") + u.bbox.left / dpr);
    el.dataset.pxLo = String(u.valToPos(row.lo, "x") + u.bbox.left / dpr);
    el.dataset.pxHi = String(u.valToPos(row.hi, "x") + u.bbox.left / dpr);
    el.dataset.pxMid = String(mid / dpr);
  }

  function plotRow(holder, row) {
    const el = document.createElement("div");
    el.className = "forest-row";
    for (const key of ["metric", "family", "kind", "lag", "estimate", "lo", "hi", "mde_lo", "mde_hi", "verdict", "unit"]) {
      if (row[key] !== null && row[key] !== undefined) el.dataset[key.replace(/_(\w)/g, (m, c) => c.toUpperCase())] = row[key];
    }
    const label = document.createElement("p");
    label.className = "forest-label";
    const tickText = (v) => tick(v, row.unit);
    label.textContent = `${row.label}: ${tickText(row.estimate)} (${tickText(row.lo)} to ${tickText(row.hi)})`;
    const plotEl = document.createElement("div");
    plotEl.className = "forest-plot-row";
    el.append(label, plotEl);
    holder.append(el);
    const opts = {
      width: Math.max(240, holder.clientWidth),
      height: ROW_HEIGHT,
      scales: { x: { time: false, range: () => range(row) }, y: { range: [0, 1] } },
      series: [{}, { paths: () => null, points: { show: false } }],
      axes: [
        { values: (u, splits) => splits.map(tickText), space: 64, size: 24, gap: 2, ticks: { size: 4 }, font: "11px system-ui" },
        { show: false },
      ],
      legend: { show: false },
      cursor: { show: false, drag: { x: false, y: false } },
      hooks: { draw: [(u) => drawRow(u, row, el)] },
    };
    const [min, max] = range(row);
    return new uPlot(opts, [[min, max], [null, null]], plotEl);
  }

  function build(holder) {
    const rows = JSON.parse(holder.dataset.rows || "[]");
    holder.querySelector(".chart-status")?.remove();
    const plots = [];
    let group = null;
    for (const row of rows) {
      if (row.group !== group) {
        group = row.group;
        const heading = document.createElement("h3");
        heading.className = "forest-group";
        heading.textContent = group;
        holder.append(heading);
      }
      plots.push(plotRow(holder, row));
    }
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => plots.forEach((p) => p.setSize({ width: Math.max(240, holder.clientWidth), height: ROW_HEIGHT })), 150);
    });
    holder.dataset.drawn = String(plots.length);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof uPlot === "undefined") return;
    const holder = document.getElementById("forest-plot");
    if (holder && holder.dataset.rows && holder.dataset.rows !== "[]") build(holder);
  });
})();
