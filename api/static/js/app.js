// ioffice pages: progressive enhancement only; every form works without JavaScript.
(function () {
  "use strict";
  // Confirm dangerous actions (buttons carrying data-confirm) before submitting.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    var msg = btn && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    // Prevent a double submit of slow actions (signing, issuing, uploads): disable after the first.
    var form = ev.target;
    if (form.getAttribute("data-submitted") === "1") { ev.preventDefault(); return; }
    if (form.method && form.method.toLowerCase() === "post" && !form.hasAttribute("hx-post")) {
      form.setAttribute("data-submitted", "1");
      form.setAttribute("aria-busy", "true");
      if (btn) {
        // Keep the pressed button's name/value in the submission before disabling it.
        if (btn.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = btn.name; hidden.value = btn.value;
          form.appendChild(hidden);
        }
        btn.disabled = true;
        btn.textContent = "Đang xử lý…";
      }
    }
  });
})();
// Coming back with the browser's back button: forms are usable again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submitted]").forEach(function (f) {
    f.removeAttribute("data-submitted"); f.removeAttribute("aria-busy");
  });
});
