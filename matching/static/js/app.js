// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // After a failed submit, move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // "Drucken" needs JavaScript: show the button, and drop the hint that names the browser menu.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
  document.querySelectorAll("[data-print-hint]").forEach(function (hint) {
    hint.hidden = true;
  });
});
