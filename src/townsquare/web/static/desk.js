/* The curation desk: the queue kept current (polled every 5 s, never while a form is open or
 * being typed in), and a keyboard: j/k select, a/r/m/w/c/x open the item's form with its first
 * field focused, Enter submits, Esc closes, ? shows the shortcuts. Forms work without it. */
(function () {
  "use strict";

  var KEYS = { a: "alert", r: "rewrite", m: "merge", c: "correct", x: "retract" };
  var POLL_MS = 5000;
  var selected = null;

  function queue() { return document.querySelector("[data-desk-queue]"); }
  function items() { return Array.prototype.slice.call(document.querySelectorAll("[data-item]")); }
  function itemOf(node) { return node && node.closest ? node.closest("[data-item]") : null; }
  function openDetails() { return document.querySelector("[data-desk-queue] details[open]"); }

  function select(item, focus) {
    items().forEach(function (el) {
      el.classList.toggle("desk-item--selected", el === item);
      el.setAttribute("aria-current", el === item ? "true" : "false");
    });
    selected = item ? item.dataset.item : null;
    if (item && focus !== false) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function current() {
    return selected ? document.querySelector('[data-item="' + selected + '"]') : null;
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var at = list.indexOf(current());
    var next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), list.length - 1);
    select(list[next]);
  }

  function closeAll(except) {
    document.querySelectorAll("[data-desk-queue] details[open]").forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }

  function openAction(item, action, into) {
    var details = item.querySelector('details[data-action="' + action + '"]');
    if (!details) return;
    closeAll(details);
    details.open = true;
    var form = details.querySelector("form");
    if (into && form.elements.into) form.elements.into.value = into;
    var field = form.querySelector("input:not([type=hidden]), textarea, select");
    if (field) {
      field.focus();
      if (field.select && field.type !== "number") field.select();
    }
  }

  function toggleHelp(show) {
    var help = document.getElementById("desk-help");
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) help.focus();
    else if (current()) current().focus();
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Escape") {
      var help = document.getElementById("desk-help");
      if (help && !help.hidden) { toggleHelp(false); event.preventDefault(); return; }
      var open = openDetails();
      if (open) {
        var item = itemOf(open);
        open.open = false;
        if (item) select(item);
        event.preventDefault();
      }
      return;
    }
    if (event.key === "Enter" && target.tagName === "TEXTAREA" && !event.shiftKey) {
      var form = target.closest("form[data-desk-form]");
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (typing(target)) return;
    if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    var chosen = current() || itemOf(target);
    if (!chosen) return;
    var action = KEYS[event.key];
    if (event.key === "w") action = chosen.dataset.visibility === "withheld" ? "publish" : "withhold";
    if (action) { select(chosen, false); openAction(chosen, action); event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-merge-into]") : null;
    if (button) {
      var item = itemOf(button);
      select(item, false);
      openAction(item, "merge", button.dataset.mergeInto);
      return;
    }
    if (event.target.closest && event.target.closest("[data-desk-help]")) { toggleHelp(); return; }
    var clicked = itemOf(event.target);
    if (clicked && clicked.dataset.item !== selected) select(clicked, false);
  });

  // Keep the queue current, but never under a curator's hands.
  function busy() {
    var active = document.activeElement;
    return Boolean(openDetails()) || (typing(active) && queue() && queue().contains(active));
  }

  function poll() {
    var box = queue();
    if (!box || busy() || document.hidden) return;
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { "X-Desk-Poll": "1" } })
      .then(function (response) {
        // A redirect means the session ended (sign-in page): never put that in the queue.
        if (!response.ok || response.redirected) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (busy()) return;
        var hadFocus = document.activeElement && itemOf(document.activeElement);
        box.innerHTML = html;
        var again = current();
        if (again) select(again, Boolean(hadFocus));
        var live = document.querySelector("[data-desk-live]");
        if (live) live.textContent = "Queue updated " + new Date().toLocaleTimeString() + ".";
      })
      .catch(function () {
        var live = document.querySelector("[data-desk-live]");
        if (live) live.textContent = "The queue could not be refreshed; it will try again.";
      });
  }

  function init() {
    var open = openDetails();
    var fromHash = location.hash ? document.querySelector(location.hash + "[data-item]") : null;
    if (open) {
      select(itemOf(open), false);
      var field = open.querySelector("form input:not([type=hidden]), form textarea");
      if (field) field.focus();
    } else {
      select(fromHash || items()[0] || null);
    }
    window.setInterval(poll, POLL_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
