/* Export progress on the Data page: the server streams the zip or CSV, this shows the bytes as they arrive
 * and then saves the file. Without JavaScript the form still downloads directly (no progress shown). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-export-progress]");
  if (!form || !window.ReadableStream) return;
  const status = form.querySelector("[data-progress-text]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter;
    const action = (button && button.getAttribute("formaction")) || form.action;
    const url = action + "?" + new URLSearchParams(new FormData(form)).toString();
    status.textContent = "Preparing the export…";
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) {
        status.textContent = "Export failed: " + (await response.text()).slice(0, 200);
        return;
      }
      const reader = response.body.getReader();
      const parts = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        received += value.length;
        status.textContent = `Downloading… ${(received / 1048576).toFixed(1)} MB received`;
      }
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob(parts, { type: response.headers.get("Content-Type") || "" }));
      link.download = name ? name[1] : "export";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      status.textContent = `Done: ${(received / 1048576).toFixed(1)} MB.`;
    } catch (err) {
      status.textContent = "Export failed: " + err;
    }
  });
});
