// Small enhancements the dashboard's plain forms work without: removing dimension rows in
// place, copy buttons, confirmations, the workspace switcher. htmx does the server round trips.
"use strict";

document.documentElement.classList.add("js");

// Rows are named by position (`evaluationDimensions.2.weight`, like the API's issue paths):
// after one is removed, the rest are numbered again from 0.
function renumber(tbody) {
  const prefix = tbody.dataset.rows;
  const field = new RegExp("^" + prefix.replace(/\./g, "\\.") + "\\.\\d+\\.");
  const id = new RegExp("^f-" + prefix.replace(/\./g, "-") + "-\\d+-");
  tbody.querySelectorAll("tr").forEach((row, index) => {
    row.querySelectorAll("[name]").forEach((input) => {
      if (!field.test(input.name)) return;
      input.name = input.name.replace(field, `${prefix}.${index}.`);
      input.id = "f-" + input.name.replace(/\./g, "-");
    });
    row.querySelectorAll("label[for]").forEach((label) => {
      label.htmlFor = label.htmlFor.replace(id, `f-${prefix.replace(/\./g, "-")}-${index}-`);
    });
    const remove = row.querySelector(".js-remove-row");
    if (remove) remove.value = String(index);
  });
}

document.addEventListener("click", (event) => {
  const remove = event.target.closest(".js-remove-row");
  if (remove) {
    event.preventDefault();
    const tbody = remove.closest("tbody");
    // The last dimension stays (a profile needs one); any rule may go.
    if (tbody.dataset.rows !== "evaluationDimensions" || tbody.querySelectorAll("tr").length > 1) {
      remove.closest("tr").remove();
      renumber(tbody);
      document.body.dispatchEvent(new Event("dimensions-changed"));
    }
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    const text = source.value || source.textContent;
    const done = () => {
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => { source.select(); document.execCommand("copy"); done(); });
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
});

// htmx sends the page's CSRF token with its own requests (only GETs today).
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.body.dataset.csrf;
  if (token) event.detail.headers["x-csrf-token"] = token;
});

document.addEventListener("DOMContentLoaded", () => {
  const error = document.getElementById("form-error");
  if (error) error.focus();
});
