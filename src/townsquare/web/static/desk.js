/* The curation desk: the queue kept current (every 5 s it asks for what changed, sending the
 * fingerprints of the items it holds and the ETag of its last answer: 304 when nothing did;
 * never while a form is open or being typed in), and a keyboard: j/k select, a/r/m/w/c/x open the item's form with its first
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

  var etag = null;

  /* The items the page holds, for the server to leave out: "id.fingerprint,…". */
  function held() {
    return items().map(function (el) { return el.dataset.item + "." + el.dataset.fp; }).join(",");
  }

  /* Put the changed items in, take out the ones that left, and follow the queue's order. */
  function apply(box, html) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    var changes = parsed.querySelector("[data-desk-changes]");
    if (!changes) return 0;
    var fresh = {};
    changes.querySelectorAll("[data-item]").forEach(function (el) { fresh[el.dataset.item] = el; });
    var order = changes.dataset.order ? changes.dataset.order.split(",") : [];
    var list = box.querySelector("ol.desk-list");
    var empty = box.querySelector(".empty");
    if (!list) return 0;
    var kept = {};
    items().forEach(function (el) { kept[el.dataset.item] = el; });
    order.forEach(function (id) {
      var el = fresh[id] ? document.importNode(fresh[id], true) : kept[id];
      if (el) list.appendChild(el);  // appending an element already there moves it
      if (fresh[id] && kept[id] && kept[id] !== el) kept[id].remove();
      delete kept[id];
    });
    Object.keys(kept).forEach(function (id) { kept[id].remove(); });
    if (empty) empty.hidden = order.length > 0;
    return Object.keys(fresh).length;
  }

  /* The waiting time of each undecided item, counted here between changes. */
  function tick() {
    document.querySelectorAll("[data-waiting-since]").forEach(function (el) {
      var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.waitingSince)) / 1000));
      var minutes = Math.floor(seconds / 60);
      var text = seconds < 60 ? seconds + " s" : minutes < 60 ? minutes + " min"
        : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
      el.textContent = "waiting " + text;
    });
  }

  function poll() {
    var box = queue();
    if (!box || busy() || document.hidden) return;
    var url = box.dataset.poll + (box.dataset.poll.indexOf("?") < 0 ? "?" : "&") +
      "have=" + encodeURIComponent(held());
    var headers = { "X-Desk-Poll": "1" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (response) {
        // A redirect means the session ended (sign-in page): never put that in the queue.
        if (response.redirected || (!response.ok && response.status !== 304)) {
          throw new Error("status " + response.status);
        }
        if (response.status === 304) return null;
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) {
        tick();
        if (html === null || busy()) return;
        var hadFocus = document.activeElement && itemOf(document.activeElement);
        var changed = apply(box, html);
        var again = current();
        if (again) select(again, Boolean(hadFocus));
        var live = document.querySelector("[data-desk-live]");
        if (live && changed) {
          live.textContent = changed + (changed === 1 ? " item" : " items") + " updated " +
            new Date().toLocaleTimeString() + ".";
        }
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
