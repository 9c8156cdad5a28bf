/* "Sync now" without leaving the page (no inline scripts: the CSP allows only files from 'self').
 *
 * form.sync-form[data-sync-url] → POST the API (202 + status_url, CSRF token from <meta name="csrf-token">),
 * then poll the status URL until the job is done or failed, writing the state into the row's .sync-status
 * cell ("syncing…", then the outcome counts or the error). Without scripts the form posts to the page's
 * own route and the reloaded page shows the job's state.
 */
"use strict";

(() => {
  const POLL_MS = 1000;
  const MAX_POLLS = 900; // 15 minutes: a ring's first full history pull can be long

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function json(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      ...options,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  function describe(job) {
    if (job.state === "running") return "syncing…";
    if (job.state === "done" && job.outcome) {
      const o = job.outcome;
      let text = `${o.status}: ${o.heart_rate} heart rate, ${o.rr} RR, ${o.sleep} sleep`;
      if (o.device_hrv) text += `, ${o.device_hrv} HRV values (the device's own estimate)`;
      if (o.unavailable && o.unavailable.length) text += ` (unavailable: ${o.unavailable.join(", ")})`;
      return text;
    }
    if (job.state === "failed") return `failed: ${job.error || (job.outcome && job.outcome.error) || "unknown error"}`;
    return "";
  }

  async function run(form) {
    const row = form.closest("tr");
    const cell = row && row.querySelector(".sync-status");
    const button = form.querySelector("button");
    const show = (state, text) => {
      if (!cell) return;
      cell.dataset.state = state;
      cell.textContent = text;
    };
    button.disabled = true;
    show("running", "syncing…");
    try {
      let job = await json(form.dataset.syncUrl, { method: "POST" });
      for (let i = 0; job.state === "running" && i < MAX_POLLS; i++) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        job = await json(job.status_url);
      }
      show(job.state, describe(job));
    } catch (error) {
      show("failed", `failed: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form.sync-form[data-sync-url]")) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        run(form);
      });
    }
  });
})();
