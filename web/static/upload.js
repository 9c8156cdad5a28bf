/* Data page: upload progress. form[data-upload] is sent with XMLHttpRequest so the browser reports how
 * much of the body has gone out; the server's answer (the page with one result per file) then replaces
 * this page. Without JavaScript the form posts normally and shows the same results. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-upload]")) {
    const bar = form.querySelector(".upload-progress");
    const status = form.querySelector(".upload-status");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.floor((100 * e.loaded) / e.total);
        bar.hidden = false;
        bar.value = pct;
        status.textContent = pct < 100 ? `Uploading: ${pct}%` : "Uploaded; importing…";
      });
      xhr.addEventListener("load", () => {
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", () => {
        status.textContent = "The upload failed (connection lost). Nothing from an unfinished file is stored.";
      });
      for (const button of form.querySelectorAll("button")) button.disabled = true;
      xhr.send(new FormData(form));
    });
  }
});
