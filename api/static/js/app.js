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
// Batch signing with progress: sign the chosen documents one by one, updating each row.
(function () {
  "use strict";
  var form = document.getElementById("batch-sign");
  if (!form || !window.fetch) { return; }
  // remote and token batches are signed under one authorisation by the server / the plugin
  if ((form.getAttribute("data-method") || "server") !== "server") { return; }
  form.setAttribute("data-js", "1");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
    var token = form.querySelector("input[name=csrf_token]").value;
    var boxes = Array.prototype.filter.call(form.querySelectorAll("input[name=document_id]"), function (b) { return b.checked; });
    var button = form.querySelector("button[type=submit]");
    var progress = document.getElementById("batch-progress");
    if (!boxes.length) { progress.textContent = "Hãy chọn ít nhất một văn bản để ký."; return; }
    button.disabled = true;
    var done = 0, ok = 0;
    function cell(id) { return form.querySelector('.batch-status[data-doc="' + id + '"]'); }
    function badge(c, tone, icon, text) {
      c.textContent = "";
      var s = document.createElement("span"); s.className = "badge badge-" + tone;
      var i = document.createElement("span"); i.setAttribute("aria-hidden", "true"); i.textContent = icon;
      s.appendChild(i); s.appendChild(document.createTextNode(" " + text)); c.appendChild(s);
    }
    boxes.forEach(function (b) { badge(cell(b.value), "neutral", "…", "Chờ đến lượt"); });
    function next(k) {
      if (k >= boxes.length) {
        progress.textContent = "Đã xong: ký được " + ok + "/" + boxes.length + " văn bản.";
        button.disabled = false; return;
      }
      var id = boxes[k].value, c = cell(id);
      badge(c, "info", "⏳", "Đang ký…");
      progress.textContent = "Đang ký văn bản " + (k + 1) + "/" + boxes.length + "…";
      var body = new URLSearchParams(); body.append("csrf_token", token); body.append("document_id", id);
      fetch("/sign-batch", { method: "POST", body: body, credentials: "same-origin",
                             headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var r = data[id] || { ok: false, message: "Không rõ kết quả." };
          if (r.ok) { ok++; badge(c, "ok", "✔", "Đã ký"); boxes[k].checked = false; boxes[k].disabled = true; }
          else { badge(c, "bad", "✖", "Không ký được: " + r.message); }
        })
        .catch(function () { badge(c, "bad", "✖", "Lỗi kết nối, chưa ký."); })
        .then(function () { done++; next(k + 1); });
    }
    next(0);
  }, true);
})();
// Large uploads (forms carrying data-upload-progress): send with XMLHttpRequest to show a progress
// bar while the file goes up, then show the server's answer as a normal page would.
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }
  function ui(form) {
    var box = form.querySelector(".upload-progress");
    if (!box) {
      box = document.createElement("div"); box.className = "upload-progress";
      var id = "up-" + Math.random().toString(36).slice(2);
      var label = document.createElement("label"); label.htmlFor = id; label.textContent = "Đang tải tệp lên";
      var bar = document.createElement("progress"); bar.id = id; bar.max = 100; bar.value = 0;
      var pct = document.createElement("span"); pct.className = "upload-percent"; pct.setAttribute("aria-live", "polite");
      box.appendChild(label); box.appendChild(document.createTextNode(" ")); box.appendChild(bar);
      box.appendChild(document.createTextNode(" ")); box.appendChild(pct);
      form.appendChild(box);
    }
    return box;
  }
  function show(xhr) {
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    if (xhr.responseURL && xhr.responseURL !== window.location.href) { window.history.pushState({}, "", xhr.responseURL); }
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (window.htmx) { window.htmx.process(document.body); }
    window.scrollTo(0, 0);
  }
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var submitter = ev.submitter;
      if (submitter && submitter.getAttribute("data-confirm") && ev.defaultPrevented) { return; }
      ev.preventDefault();
      var data = new FormData(form, submitter || undefined);
      var box = ui(form), bar = box.querySelector("progress"), pct = box.querySelector(".upload-percent");
      box.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var p = Math.round(e.loaded * 100 / e.total);
        bar.value = p; pct.textContent = p + "%";
      });
      xhr.upload.addEventListener("load", function () { bar.value = 100; pct.textContent = "100% — đang xử lý trên máy chủ…"; });
      xhr.addEventListener("load", function () { show(xhr); });
      xhr.addEventListener("error", function () {
        pct.textContent = "Mất kết nối khi tải lên. Hãy thử lại.";
        form.removeAttribute("data-submitted"); form.removeAttribute("aria-busy");
        var b = form.querySelector("button[type=submit]"); if (b) { b.disabled = false; }
      });
      xhr.send(data);
    });
  });
})();
