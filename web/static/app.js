/* Small page behaviours (no inline scripts: the CSP allows only files from 'self').
 * - [data-autosubmit] selects submit their form on change (the person picker);
 * - form[data-confirm] asks before submitting (cancel a session);
 * - .js-hide elements are hidden once this script runs (the picker's fallback button);
 * - a .table-wrap whose table is wider than the box gets .scrolls, which shows a "scroll sideways" cue. */
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

  const markScrolling = () => {
    for (const box of document.querySelectorAll(".table-wrap")) {
      box.classList.toggle("scrolls", box.scrollWidth > box.clientWidth + 1);
    }
  };
  markScrolling();
  let timer = null;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(markScrolling, 150);
  });
  for (const details of document.querySelectorAll("details")) details.addEventListener("toggle", markScrolling);
});
