/* The somatic-tracking timer (issue 14): moves through the cues of the guided sequence.
   Progressive enhancement only: without this script the page lists the cues with their times and
   the form works as it is. CSP-safe: loaded from 'self', no inline script or style, no eval; it
   only toggles classes, attributes and text. The cue times come from the page (data-start/end,
   seconds, laid out by prt.program.tracking_cues at the server). */
(function () {
  "use strict";

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function start() {
    var box = document.querySelector("[data-timer]");
    var list = document.querySelector("[data-cues]");
    if (!box || !list) { return; }
    var cues = Array.prototype.slice.call(list.querySelectorAll("li[data-start]"));
    var total = parseInt(box.getAttribute("data-total"), 10) || 0;
    var toggle = box.querySelector("[data-timer-toggle]");
    var reset = box.querySelector("[data-timer-reset]");
    var out = box.querySelector("[data-timer-clock]");
    var status = document.querySelector("[data-timer-status]");
    var minutes = document.querySelector("[data-timer-minutes]");
    var elapsed = 0, startedAt = null, tick = null, current = -1;

    function now() { return elapsed + (startedAt === null ? 0 : (Date.now() - startedAt) / 1000); }

    function mark(index) {
      if (index === current) { return; }
      current = index;
      cues.forEach(function (li, i) {
        li.classList.toggle("now", i === index);
        if (i === index) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
      });
      if (index >= 0) { status.textContent = "Now: " + cues[index].getAttribute("data-title") + "."; }
    }

    function update() {
      var t = now();
      out.textContent = clock(t);
      var index = -1;
      cues.forEach(function (li, i) {
        if (t >= parseFloat(li.getAttribute("data-start")) && t < parseFloat(li.getAttribute("data-end"))) { index = i; }
      });
      mark(index);
      if (total && t >= total) { finish(); }
    }

    function finish() {
      pause();
      elapsed = total;
      out.textContent = clock(total);
      mark(-1);
      status.textContent = "Done. Rate your pain and fear again below (Afterwards), then save.";
      toggle.textContent = "Start again";
      if (minutes) { minutes.value = String(Math.max(1, Math.ceil(total / 60))); }
    }

    function pause() {
      if (startedAt !== null) { elapsed = now(); startedAt = null; }
      if (tick !== null) { window.clearInterval(tick); tick = null; }
    }

    toggle.addEventListener("click", function () {
      if (startedAt === null) {
        if (total && elapsed >= total) { elapsed = 0; }
        startedAt = Date.now();
        tick = window.setInterval(update, 250);
        toggle.textContent = "Pause";
        update();
      } else {
        pause();
        toggle.textContent = "Resume";
        status.textContent = "Paused at " + clock(elapsed) + ".";
        if (minutes && elapsed >= 30) { minutes.value = String(Math.max(1, Math.round(elapsed / 60))); }
      }
    });
    reset.addEventListener("click", function () {
      pause();
      elapsed = 0;
      out.textContent = clock(0);
      mark(-1);
      status.textContent = "";
      toggle.textContent = "Start the timer";
    });
    box.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
