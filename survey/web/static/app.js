// The few lines of behaviour the pages need, written here instead of a library (no build step, no CDN):
// a task's status is fetched every second until it has ended (then its result page opens, if it has one); a file can be dropped on the drop zone;
// a button with data-confirm asks before it posts. Every page works without this script too.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var timer = setInterval(function () {
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) {
        box.innerHTML = html;
        var done = box.querySelector("[data-done]");
        if (done) {
          clearInterval(timer);
          if (done.getAttribute("data-go")) { window.location.assign(done.getAttribute("data-go")); }
        }
      }).catch(function () { clearInterval(timer); });
    }, 1000);
  }
  function dropzone(zone) {
    var input = document.getElementById(zone.getAttribute("data-drop-for"));
    ["dragenter", "dragover"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(function (box) {
      if (!box.querySelector("[data-done]")) { poll(box); }
    });
    document.querySelectorAll("[data-drop-for]").forEach(dropzone);
    document.querySelectorAll("[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (ev) { if (!window.confirm(b.getAttribute("data-confirm"))) { ev.preventDefault(); } });
    });
  });
})();
