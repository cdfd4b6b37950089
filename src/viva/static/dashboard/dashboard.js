// Small enhancements the dashboard's plain forms work without: removing dimension rows in
// place, copy buttons, confirmations, the workspace switcher. htmx does the server round trips.
"use strict";

document.documentElement.classList.add("js");

function renumber(tbody) {
  tbody.querySelectorAll("tr").forEach((row, index) => {
    row.querySelectorAll("[name^='evaluationDimensions.']").forEach((input) => {
      input.name = input.name.replace(/^evaluationDimensions\.\d+\./, `evaluationDimensions.${index}.`);
      input.id = input.name.replace(/\./g, "-").replace(/^/, "f-");
    });
    row.querySelectorAll("label[for^='f-evaluationDimensions-']").forEach((label) => {
      label.htmlFor = label.htmlFor.replace(/^f-evaluationDimensions-\d+-/, `f-evaluationDimensions-${index}-`);
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
    if (tbody.querySelectorAll("tr").length > 1) {
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
