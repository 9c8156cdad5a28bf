/* Time-series charts on uPlot, fed by the JSON API (no inline scripts: the CSP allows only 'self').
 *
 * Markup: <div class="chart" data-chart data-person="ID" data-kind="heart_rate|rr" data-tz="Europe/Berlin"
 *              data-samples-url="/api/v1/samples" data-sessions-url="/api/v1/sessions"
 *              [data-from="epoch ms"] [data-to="epoch ms"]></div>
 * The time axis is in the person's zone (data-tz), not the browser's, to match the session times shown.
 *
 * GET samples → {x: [epoch ms], series: [{name, unit, values}], from, to, total, downsampled}.
 * The server downsamples (LTTB, ≤ 2000 points per series), so zooming in refetches the visible range to
 * get the detail back. Sessions in range are drawn as shaded spans (massage and rest in different shades,
 * planned ones outlined). Series with different units get their own y axis.
 *
 * Series charts: <div class="chart" data-chart data-series-url="/api/v1/nights?person=1&last=14"
 *                     data-tz="..." [data-keys="tst_min,sleep_efficiency_pct"]></div>
 * GET → {series: [{key, name, unit, x: [epoch ms], values: [number|null]}], spans: [{kind, start_ms, end_ms,
 * status?, label?}]}. Each series has its own x (beats, 5-minute logs and nights do not line up); uPlot.join
 * merges them, so a point missing from one series is skipped (undefined) while a null from the server is
 * a gap that breaks the line. The server already downsampled (≤ 2000 points per series); zoom is local.
 * Spans of kind "window" (capture windows) are outlined, sessions shaded; a span narrower than 3 px is
 * widened to stay visible (sessions on a two-week nights chart).
 */
"use strict";

(() => {
  // Data lines in blue/teal/violet/black; sessions as amber (massage) and slate (rest) bands, so a band is
  // never mistaken for a series.
  const COLORS = ["#1d4ed8", "#0f766e", "#7c3aed", "#111827"];
  const SPAN_FILL = { massage: "rgba(245, 158, 11, 0.30)", rest: "rgba(100, 116, 139, 0.25)" };
  const SPAN_NAMES = { massage: "massage session", rest: "rest session" };
  const REFETCH_DELAY_MS = 250;
  const MIN_SPAN_PX = 6;
  // A gap in recording: consecutive points further apart than GAP_FACTOR times the series' median spacing
  // (and at least MIN_GAP_MS) get a null between them, so no line is drawn across the gap.
  const GAP_FACTOR = 4;
  const MIN_GAP_MS = 90_000;
  // Dates and times in the person's zone (data-tz), styled by the `[web] locale` setting (on <html
  // data-locale>) or else the browser's language: en-GB or de-DE get a 24-hour clock, en-US a 12-hour one.
  const LOCALE = document.documentElement.dataset.locale || navigator.language || "en-GB";

  function timeFormats(tz) {
    const make = (opts) => new Intl.DateTimeFormat(LOCALE, { timeZone: tz || undefined, ...opts });
    const day = make({ day: "numeric", month: "short" });
    const minutes = make({ hour: "2-digit", minute: "2-digit" });
    const seconds = make({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const full = make({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    return {
      ticks(splits, incr) {
        let prevDay = null;
        return splits.map((ms) => {
          const d = day.format(ms);
          if (incr >= 86_400_000) return d;
          const t = (incr < 60_000 ? seconds : minutes).format(ms);
          const label = d !== prevDay ? `${t}\n${d}` : t;
          prevDay = d;
          return label;
        });
      },
      full: (ms) => full.format(ms),
    };
  }

  /* Numbers on axes as on the rest of the page: a point for decimals, no grouping. */
  function number(v) {
    if (v == null) return "—";
    const abs = Math.abs(v);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    return String(Math.round(v * 10 ** digits) / 10 ** digits);
  }

  function medianStep(xs) {
    const steps = [];
    for (let i = 1; i < xs.length; i++) steps.push(xs[i] - xs[i - 1]);
    steps.sort((a, b) => a - b);
    return steps.length ? steps[Math.floor(steps.length / 2)] : 0;
  }

  /* [xs, ...ys] with a null inserted in every series wherever xs has a gap (see GAP_FACTOR). */
  function breakGaps(xs, ys) {
    const limit = Math.max(GAP_FACTOR * medianStep(xs), MIN_GAP_MS);
    const outX = [];
    const outY = ys.map(() => []);
    for (let i = 0; i < xs.length; i++) {
      if (i > 0 && xs[i] - xs[i - 1] > limit) {
        outX.push(xs[i - 1] + 1);
        outY.forEach((o) => o.push(null));
      }
      outX.push(xs[i]);
      ys.forEach((y, j) => outY[j].push(y[i]));
    }
    return [outX, ...outY];
  }

  /* A legend for the shaded bands, under the chart, for the kinds present. */
  function spanLegend(el, spans) {
    let legend = el.parentElement.querySelector(".chart-legend");
    const kinds = [...new Set(spans.map((s) => s.kind))];
    if (!kinds.length) {
      if (legend) legend.remove();
      return;
    }
    if (!legend) {
      legend = document.createElement("p");
      legend.className = "legend chart-legend";
      el.after(legend);
    }
    legend.replaceChildren();
    for (const kind of kinds) {
      const swatch = document.createElement("span");
      swatch.className = `swatch span-${kind}`;
      legend.append(swatch, kind === "window" ? "capture window (outlined)" : SPAN_NAMES[kind] || kind);
    }
    if (spans.some((s) => s.status === "planned")) {
      const swatch = document.createElement("span");
      swatch.className = "swatch span-planned";
      legend.append(swatch, "planned (dashed outline)");
    }
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  function withParams(base, params) {
    const url = new URL(base, window.location.origin);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  function setStatus(el, text) {
    let status = el.querySelector(".chart-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "chart-status";
      el.prepend(status);
    }
    status.textContent = text;
    status.hidden = !text;
  }

  /* Shaded session spans, drawn under the series on each redraw. */
  function spansPlugin(getSpans) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx } = u;
            const { left, top, width, height } = u.bbox;
            ctx.save();
            ctx.beginPath();
            ctx.rect(left, top, width, height);
            ctx.clip();
            for (const span of getSpans()) {
              let x0 = Math.max(left, u.valToPos(span.start_ms, "x", true));
              let x1 = Math.min(left + width, u.valToPos(span.end_ms, "x", true));
              if (x1 < x0 || x1 < left || x0 > left + width) continue;
              if (x1 - x0 < MIN_SPAN_PX) {
                const mid = (x0 + x1) / 2;
                x0 = mid - MIN_SPAN_PX / 2;
                x1 = mid + MIN_SPAN_PX / 2;
              }
              if (span.kind === "window") {
                ctx.strokeStyle = "rgba(0, 0, 0, 0.45)";
                ctx.strokeRect(x0, top + 1, x1 - x0, height - 2);
                continue;
              }
              ctx.fillStyle = SPAN_FILL[span.kind] || SPAN_FILL.massage;
              ctx.fillRect(x0, top, x1 - x0, height);
              if (span.status === "planned") {
                ctx.strokeStyle = "rgba(0, 0, 0, 0.35)";
                ctx.setLineDash([4, 4]);
                ctx.strokeRect(x0, top, x1 - x0, height);
                ctx.setLineDash([]);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function uplotData(body) {
    return breakGaps(body.x, body.series.map((s) => s.values));
  }

  function uplotOptions(el, body, getSpans, onZoom, tz) {
    const units = [...new Set(body.series.map((s) => s.unit))];
    const series = [
      { label: "Time" },
      ...body.series.map((s, i) => ({
        label: `${s.name} (${s.unit})`,
        scale: s.unit,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        value: (u, v) => (v == null ? "—" : `${Math.round(v * 10) / 10} ${s.unit}`),
      })),
    ];
    const formats = timeFormats(tz);
    series[0].value = (u, v) => (v == null ? "—" : formats.full(v));
    const axes = [
      {
        space: 70,
        size: 44,
        values: (u, splits, axisIdx, space, incr) => {
          const labels = formats.ticks(splits, incr);
          el.dataset.xTicks = JSON.stringify(labels); // what the axis shows, for tests and for anyone inspecting
          return labels;
        },
      },
      ...units.map((unit, i) => ({
        scale: unit, label: unit, side: i === 0 ? 3 : 1, grid: { show: i === 0 },
        values: (u, splits) => splits.map(number),
      })),
    ];
    const scales = { x: { time: true } };
    for (const unit of units) scales[unit] = { auto: true };
    return {
      width: Math.max(280, el.clientWidth),
      height: el.clientWidth < 500 ? 220 : 300,
      ms: 1, // x values are epoch milliseconds
      tzDate: tz ? (ms) => uPlot.tzDate(new Date(ms), tz) : (ms) => new Date(ms),
      series,
      axes,
      scales,
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
      plugins: [spansPlugin(getSpans)],
      // setSelect fires only for the user's drag (uPlot zooms locally at once; onZoom then refetches)
      hooks: { setSelect: [(u) => u.select.width > 0 && onZoom(u)] },
    };
  }

  class Chart {
    constructor(el) {
      this.el = el;
      this.person = el.dataset.person;
      this.kind = el.dataset.kind;
      this.tz = el.dataset.tz || null;
      this.samplesUrl = el.dataset.samplesUrl || "/api/v1/samples";
      this.sessionsUrl = el.dataset.sessionsUrl || "/api/v1/sessions";
      this.initial = { from: el.dataset.from, to: el.dataset.to };
      this.range = null; // the range the current data was fetched for
      this.spans = [];
      this.plot = null;
      this.timer = null;
      this.seq = 0;
    }

    async load(from, to) {
      const seq = ++this.seq; // a slow answer for an older zoom must not overwrite a newer one
      try {
        const body = await getJSON(
          withParams(this.samplesUrl, { person: this.person, kind: this.kind, from, to, max_points: 2000 })
        );
        const spans = await this.loadSpans(body.from, body.to);
        if (seq !== this.seq) return;
        this.spans = spans;
        spanLegend(this.el, spans);
        this.range = { from: body.from, to: body.to };
        if (!body.x.length) {
          this.destroyPlot();
          setStatus(this.el, "No samples yet in this range.");
          return;
        }
        setStatus(this.el, body.downsampled ? `Showing ${body.x.length} of ${body.total} points; zoom in for detail.` : "");
        this.draw(body);
      } catch (error) {
        setStatus(this.el, `Could not load the chart: ${error.message}`);
      }
    }

    async loadSpans(from, to) {
      try {
        const body = await getJSON(
          withParams(this.sessionsUrl, { person: this.person, from, to, status: "planned,done" })
        );
        return body.sessions || [];
      } catch (error) {
        return []; // spans are decoration: a failure must not hide the samples
      }
    }

    destroyPlot() {
      if (this.plot) this.plot.destroy();
      this.plot = null;
    }

    /* Which device the series comes from (one source per metric and range; the rule is the server's). */
    showSource(body) {
      let note = this.el.querySelector(".chart-source");
      if (!note) {
        note = document.createElement("p");
        note.className = "chart-source";
        this.el.append(note);
      }
      const src = body.source;
      note.hidden = !src;
      if (!src) return;
      note.textContent = src.other_sources > 0
        ? `Source: ${src.name} (chosen over ${src.other_sources} other source${src.other_sources > 1 ? "s" : ""}). ${src.rule}`
        : `Source: ${src.name}`;
      note.title = src.rule;
    }

    draw(body) {
      this.showSource(body);
      const data = uplotData(body);
      const seriesCount = body.series.length;
      if (this.plot && this.plot.series.length === seriesCount + 1) {
        this.plot.setData(data);
        return;
      }
      this.destroyPlot();
      const opts = uplotOptions(this.el, body, () => this.spans, (u) => this.zoomed(u), this.tz);
      this.plot = new uPlot(opts, data, this.el);
      this.el._uplot = this.plot;
      this.addResetButton();
    }

    /* After a drag-zoom, fetch the visible range again so downsampled data gains its detail back. */
    zoomed(u) {
      if (!this.range) return;
      const from = Math.floor(u.posToVal(u.select.left, "x"));
      const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x")) + 1;
      if (!(to > from)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(from, to), REFETCH_DELAY_MS);
    }

    reset() {
      this.load(this.initial.from, this.initial.to);
    }

    addResetButton() {
      if (this.el.querySelector(".chart-reset")) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chart-reset";
      button.textContent = "Reset zoom";
      button.addEventListener("click", () => this.reset());
      this.el.append(button);
      this.el.addEventListener("dblclick", () => this.reset());
    }

    resize() {
      if (this.plot) this.plot.setSize({ width: Math.max(280, this.el.clientWidth), height: this.plot.height });
    }
  }

  /* A chart of precomputed series from one URL (nights, a session's HR and HRV); see the header. */
  class SeriesChart {
    constructor(el) {
      this.el = el;
      this.url = el.dataset.seriesUrl;
      this.tz = el.dataset.tz || null;
      this.keys = el.dataset.keys ? el.dataset.keys.split(",") : null;
      this.spans = [];
      this.plot = null;
      this.full = null;
    }

    async reset() {
      if (this.plot && this.full) {
        this.plot.setScale("x", this.full);
        return;
      }
      try {
        const body = await getJSON(this.url);
        let series = body.series || [];
        if (this.keys) series = series.filter((s) => this.keys.includes(s.key));
        series = series.filter((s) => s.values.some((v) => v !== null));
        this.spans = body.spans || [];
        if (!series.length) {
          setStatus(this.el, "No data yet in this range.");
          return;
        }
        setStatus(this.el, "");
        // NULL_EXPAND (2): a null also blanks the neighbouring alignment points of the other series, because
        // uPlot clips a gap only between a null's neighbours; without it a line would bridge the gap.
        const data = uPlot.join(series.map((s) => breakGaps(s.x, [s.values])), series.map(() => [null, 2]));
        const opts = uplotOptions(this.el, { series }, () => this.spans, () => {}, this.tz);
        this.plot = new uPlot(opts, data, this.el);
        this.el._uplot = this.plot;
        spanLegend(this.el, this.spans);
        this.full = { min: data[0][0], max: data[0][data[0].length - 1] };
        this.addResetButton();
      } catch (error) {
        setStatus(this.el, `Could not load the chart: ${error.message}`);
      }
    }

    addResetButton() {
      Chart.prototype.addResetButton.call(this);
    }

    resize() {
      Chart.prototype.resize.call(this);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof uPlot === "undefined") return;
    const charts = [...document.querySelectorAll("[data-chart]")].map((el) =>
      el.dataset.seriesUrl ? new SeriesChart(el) : new Chart(el)
    );
    for (const chart of charts) chart.reset();
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => charts.forEach((c) => c.resize()), 150);
    });
  });

  window.TrackerCharts = { Chart, SeriesChart };
})();
