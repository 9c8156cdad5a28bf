/* Small page behaviours (no inline scripts: the CSP allows only files from 'self').
 * - [data-autosubmit] selects submit their form on change (the person picker);
 * - form[data-confirm] asks before submitting (cancel a session);
 * - .js-hide elements are hidden once this script runs (the picker's fallback button). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");

  for (const select of document.querySelectorAll("[data-autosubmit]")) {
    select.addEventListener("change", () => select.form && select.form.submit());
  }

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
