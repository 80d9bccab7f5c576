/* Watch areas: create one through the API, keep its manage token in this browser only,
 * list each area with what it receives (at once, in the digest) and its delivery log.
 * The server keeps only the H3 cells of an area, never its centre or radius: the exact
 * shape drawn here is kept in this browser (localStorage, with the id and token) for display.
 * A refusal is shown in plain words under the field it is about. */
(function () {
  "use strict";
  var KEY = "townsquare.watch-areas";
  /* The page's language: its words for this script's sentences (alerts.html, when not English). */
  var TEXT = (function () {
    var node = document.getElementById("alerts-text");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  })();
  function tr(text, values) {
    var shown = TEXT[text] || text;
    Object.keys(values || {}).forEach(function (k) { shown = shown.split("{" + k + "}").join(values[k]); });
    return shown;
  }
  var FIELD_OF = {
    lat: "w-lat", lon: "w-lon", radius_m: "w-radius", area: "w-lat", categories: "w-about",
    min_severity: "w-severity", urgent_severity: "w-urgent", kind: "w-channel",
    channels: "w-target", address: "w-target", url: "w-target", endpoint: "w-channel",
    keys: "w-channel", p256dh: "w-channel", auth: "w-channel",
  };
  var FALLBACK = {
    lat: tr("Type a latitude: a number from -90 to 90."),
    lon: tr("Type a longitude: a number from -180 to 180."),
    radius_m: tr("Pick a radius from the list."),
    address: tr("Type the e-mail address the alerts should go to."),
    url: tr("Type the webhook URL the alerts should be sent to (it starts with https://)."),
  };
  var OUTCOME = {
    queued: tr("on its way"), retrying: tr("failed, retrying"), sent: tr("sent"),
    dead: tr("failed, given up"), held: tr("waiting for the digest"),
    digested: tr("sent in a digest"), withdrawn: tr("withdrawn"),
  };

  function stored() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(list) { localStorage.setItem(KEY, JSON.stringify(list)); }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function refusal(field, message) {
    var error = new Error(message);
    error.field = field;
    return error;
  }

  /* A server message as a sentence: no parameter prefix, no validator jargon. */
  function plain(parameter, detail) {
    var text = String(detail || "");
    if (parameter && text.indexOf(parameter + ": ") === 0) text = text.slice(parameter.length + 2);
    text = text.replace(/^Value error, /, "");
    if (/^(Input should|String should|Field required|Extra inputs|List should)/.test(text)) {
      text = FALLBACK[parameter] || tr("This value is not accepted; check it.");
    }
    if (!text) text = tr("The area could not be saved. Try again.");
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function urlBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
    return out;
  }

  function sameKey(given, wanted) {
    if (!given) return false;
    var bytes = new Uint8Array(given);
    if (bytes.length !== wanted.length) return false;
    for (var i = 0; i < bytes.length; i += 1) if (bytes[i] !== wanted[i]) return false;
    return true;
  }

  function activated(reg) {
    if (reg.active) return Promise.resolve(reg);
    var worker = reg.installing || reg.waiting;
    return new Promise(function (resolve) {
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") resolve(reg);
      });
    });
  }

  function permission() {
    if (Notification.permission === "granted") return Promise.resolve("granted");
    return Promise.resolve(Notification.requestPermission());
  }

  /* The browser's own flow: ask to show notifications, then subscribe with the server's key. */
  function pushChannel() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      return Promise.reject(refusal("w-channel",
        tr("This browser cannot receive push alerts. Pick e-mail or a webhook.")));
    }
    return permission().then(function (answer) {
      if (answer === "denied") {
        throw refusal("w-channel", tr("Notifications are blocked for this site in this browser. " +
          "Allow them in the browser's site settings, or pick e-mail or a webhook."));
      }
      if (answer !== "granted") {
        throw refusal("w-channel", tr("Townsquare may only send push alerts once you allow " +
          "notifications. Press “Watch this area” again and answer Allow."));
      }
      return fetch("/api/v1/push/key");
    }).then(function (r) {
      if (!r.ok) throw refusal("w-channel", tr("The server could not give its push key just now. " +
        "Try again in a moment, or pick e-mail or a webhook."));
      return r.json();
    }).then(function (key) {
      var wanted = urlBytes(key.public_key);
      return navigator.serviceWorker.register("/static/push-worker.js").then(activated)
        .then(function (reg) {
          return reg.pushManager.getSubscription().then(function (old) {
            if (old && !sameKey(old.options && old.options.applicationServerKey, wanted)) {
              return old.unsubscribe().then(function () { return null; });
            }
            return old;
          }).then(function (old) {
            return old || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: wanted });
          });
        });
    }).then(function (sub) {
      var json = sub.toJSON();
      return { kind: "webpush", endpoint: json.endpoint, keys: json.keys };
    }).catch(function (error) {
      if (error.field) throw error;
      throw refusal("w-channel", tr("This browser could not subscribe to push alerts ({error}). " +
        "Pick e-mail or a webhook.", { error: error.message }));
    });
  }

  function channelFrom(form) {
    var select = form.elements.channel;
    var kind = select.value;
    if (kind === "webpush") return pushChannel();
    var channel = { kind: kind };
    var field = select.options[select.selectedIndex].getAttribute("data-field");
    if (field) channel[field] = form.elements.target.value.trim();
    return Promise.resolve(channel);
  }

  function shapeLabel(shape) {
    if (!shape || shape.type !== "circle") return tr("Watch area");
    var r = shape.radius_m;
    return tr("{radius} around {lat}, {lon}", {
      radius: r >= 1000 ? r / 1000 + " km" : r + " m",
      lat: shape.lat.toFixed(4), lon: shape.lon.toFixed(4),
    });
  }

  function authorized(entry) { return { headers: { Authorization: "Bearer " + entry.token } }; }

  function planOf(sub) {
    var slot = document.createDocumentFragment();
    if (!sub) return slot;
    var plan = el("ul", undefined, "watch-plan");
    plan.setAttribute("aria-label", tr("What this area receives"));
    ["about", "now", "digest", "never", "quiet", "curated"].forEach(function (key) {
      if (sub.plan && sub.plan[key]) {
        var item = el("li", sub.plan[key]);
        item.dataset.plan = key;
        plan.appendChild(item);
      }
    });
    slot.appendChild(plan);
    var labels = {};
    Array.prototype.forEach.call(document.querySelectorAll("#w-channel option"), function (o) {
      labels[o.value] = o.textContent;
    });
    var to = sub.channels.map(function (c) { return labels[c.kind] || c.kind; }).join(", ");
    slot.insertBefore(el("p", tr("Sends to {to}.", { to: to }), "watch-channels"), plan);
    if (sub.channels.some(function (c) { return !c.confirmed; })) {
      slot.appendChild(el("p", tr("Waiting for the address to confirm: nothing is sent before. " +
        "Open the link in the mail we sent."), "notice watch-pending"));
    }
    return slot;
  }

  function logOf(rows) {
    if (!rows.length) return el("p", tr("Nothing sent yet."), "muted");
    var frame = el("div", undefined, "table-scroll");
    var table = el("table", undefined, "delivery-log");
    table.setAttribute("aria-label", tr("Delivery log"));
    var head = table.createTHead().insertRow();
    ["When", "What", "Incident", "Channel", "Outcome"].forEach(function (h) {
      var cell = el("th", tr(h));
      cell.scope = "col";
      head.appendChild(cell);
    });
    var body = table.createTBody();
    rows.forEach(function (d) {
      var row = body.insertRow();
      row.dataset.status = d.status;
      [new Date(d.created_at).toLocaleString(), d.kind, d.incident_id || "", d.channel_kind,
       (OUTCOME[d.status] || d.status) + (d.last_error ? " (" + d.last_error + ")" : "")]
        .forEach(function (v) { row.appendChild(el("td", String(v))); });
    });
    frame.appendChild(table);
    return frame;
  }

  function read(path, entry, fallback) {
    return fetch(path, authorized(entry)).then(function (r) { return r.ok ? r.json() : fallback; })
      .catch(function () { return fallback; });
  }

  /* One area's box, built whole before it replaces the old one (no flicker every 5 s). */
  function areaBox(entry) {
    var where = "/api/v1/subscriptions/" + entry.id;
    return Promise.all([read(where, entry, null), read(where + "/deliveries", entry, [])])
      .then(function (found) {
        var box = el("article", undefined, "card watch-area");
        box.dataset.subscription = entry.id;
        box.appendChild(el("h3", entry.shape ? shapeLabel(entry.shape) : entry.label));
        box.appendChild(planOf(found[0]));
        box.appendChild(logOf(found[1]));
        var remove = el("button", tr("Stop watching"), "button button--quiet");
        remove.type = "button";
        remove.addEventListener("click", function () {
          fetch(where, { method: "DELETE", headers: { Authorization: "Bearer " + entry.token } })
            .then(function () {
              store(stored().filter(function (e) { return e.id !== entry.id; }));
              render();
            });
        });
        box.appendChild(remove);
        return box;
      });
  }

  function render() {
    var list = document.getElementById("watch-list");
    var areas = stored();
    Promise.all(areas.map(areaBox)).then(function (boxes) {
      var fresh = document.createDocumentFragment();
      if (!boxes.length) fresh.appendChild(el("p", tr("None yet in this browser."), "muted"));
      boxes.forEach(function (box) { fresh.appendChild(box); });
      list.textContent = "";
      list.appendChild(fresh);
    });
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (box) {
      box.hidden = true;
      box.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  function showError(id, message) {
    var input = document.getElementById(id);
    var box = document.getElementById(id + "-error");
    if (!input || !box) return false;
    input.setAttribute("aria-invalid", "true");
    box.textContent = message;
    box.hidden = false;
    input.focus();
    return true;
  }

  function number(form, name, low, high) {
    var text = form.elements[name].value.trim().replace(",", ".");
    var value = Number(text);
    if (!text || isNaN(value) || value < low || value > high) throw refusal(FIELD_OF[name], FALLBACK[name]);
    return value;
  }

  function showChannel(form) {
    var option = form.elements.channel.options[form.elements.channel.selectedIndex];
    var field = option.getAttribute("data-field");
    var target = form.querySelector("[data-target-field]");
    target.hidden = !field;
    form.querySelector("[data-push-hint]").hidden = form.elements.channel.value !== "webpush";
    var label = target.querySelector("label");
    label.textContent = tr(field === "address" ? "E-mail address" : field === "url" ? "Webhook URL" : "Address");
    form.elements.target.type = field === "address" ? "email" : field === "url" ? "url" : "text";
    Array.prototype.forEach.call(target.querySelectorAll("[data-hint-address], [data-hint-url]"), function (hint) {
      var mine = hint.hasAttribute("data-hint-" + field);
      hint.hidden = !mine;
      if (mine) hint.id = "w-target-hint"; else hint.removeAttribute("id");
    });
  }

  function init() {
    var form = document.getElementById("watch-form");
    var status = document.getElementById("watch-status");
    if (!form) return;
    form.elements.channel.addEventListener("change", function () { clearErrors(form); showChannel(form); });
    showChannel(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      status.className = "notice";
      status.textContent = tr("Saving…");
      var kind = form.elements.channel.value;
      var shape;
      Promise.resolve().then(function () {
        shape = { type: "circle", lat: number(form, "lat", -90, 90), lon: number(form, "lon", -180, 180),
                  radius_m: parseFloat(form.elements.radius_m.value) };
        return channelFrom(form);
      }).then(function (channel) {
        var about = form.elements.category.value;
        return fetch("/api/v1/subscriptions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            area: shape, /* turned into cells by the server, which keeps no centre */
            categories: about ? [about] : [],
            min_severity: parseInt(form.elements.min_severity.value, 10),
            urgent_severity: parseInt(form.elements.urgent_severity.value, 10),
            channels: [channel],
          }),
        });
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.ok) return body;
          var field = FIELD_OF[body.parameter];
          if (field === "w-target" && kind === "webpush") field = "w-channel";
          if (r.status === 429) throw new Error(tr("Too many new areas from this address in the last hour. Try again later."));
          throw field ? refusal(field, plain(body.parameter, body.detail)) : new Error(plain(body.parameter, body.detail));
        });
      }).then(function (body) {
        if (body.status === "exists") { status.className = "notice"; status.textContent = body.detail; return; }
        var s = body.subscription;
        var areas = stored();
        areas.push({ id: s.id, token: body.manage_token, shape: shape });
        store(areas);
        var pending = s.channels.some(function (c) { return !c.confirmed; });
        status.className = "notice notice--ok";
        status.textContent = tr("Watching {area}.", { area: shapeLabel(shape) }) + (pending ?
          " " + tr("Check the mailbox: alerts start once the address confirms the link we sent.") : "");
        render();
      }).catch(function (error) {
        status.className = "notice notice--error";
        if (error.field && showError(error.field, error.message)) {
          status.textContent = tr("Not saved: see the message under the field.");
        } else if (error instanceof TypeError) {
          status.textContent = tr("The server could not be reached. Check the connection and try again.");
        } else {
          status.textContent = error.message;
        }
      });
    });
    render();
    window.setInterval(render, 5000); /* a delivery usually lands within seconds: show it soon */
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
