/* Watch areas: create one through the API, keep its manage token in this browser only,
 * list each area with its delivery log (what was sent, what failed, what is waiting).
 * The server keeps only the H3 cells of an area, never its centre or radius: the exact
 * shape drawn here is kept in this browser (localStorage, with the id and token) for display. */
(function () {
  "use strict";
  var KEY = "townsquare.watch-areas";

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

  function pushChannel() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      return Promise.reject(new Error("This browser cannot receive push alerts; pick e-mail or a webhook."));
    }
    return fetch("/api/v1/push/key").then(function (r) {
      if (!r.ok) throw new Error("This server does not send push alerts; pick e-mail or a webhook.");
      return r.json();
    }).then(function (key) {
      return navigator.serviceWorker.register("/static/push-worker.js").then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key.public_key });
      });
    }).then(function (sub) {
      var json = sub.toJSON();
      return { kind: "webpush", endpoint: json.endpoint, keys: json.keys };
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
    if (!shape || shape.type !== "circle") return "Watch area";
    var r = shape.radius_m;
    return (r >= 1000 ? r / 1000 + " km" : r + " m") + " around " +
      shape.lat.toFixed(4) + ", " + shape.lon.toFixed(4);
  }

  function renderState(entry, box) {
    fetch("/api/v1/subscriptions/" + entry.id, {
      headers: { Authorization: "Bearer " + entry.token },
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (sub) {
      if (!sub) return;
      var waiting = sub.channels.filter(function (c) { return !c.confirmed; });
      if (waiting.length) {
        box.insertBefore(el("p", "Waiting for the address to confirm: nothing is sent before. " +
          "Open the link in the mail we sent.", "muted watch-pending"), box.children[1] || null);
      }
    });
  }

  function renderLog(entry, box) {
    fetch("/api/v1/subscriptions/" + entry.id + "/deliveries", {
      headers: { Authorization: "Bearer " + entry.token },
    }).then(function (r) { return r.ok ? r.json() : []; }).then(function (rows) {
      var table = el("table", undefined, "delivery-log");
      table.setAttribute("aria-label", "Delivery log");
      var head = table.insertRow();
      ["When", "What", "Incident", "Channel", "Outcome"].forEach(function (h) { head.appendChild(el("th", h)); });
      rows.forEach(function (d) {
        var row = table.insertRow();
        row.dataset.status = d.status;
        [new Date(d.created_at).toLocaleString(), d.kind, d.incident_id || "", d.channel_kind,
         d.status + (d.last_error ? " (" + d.last_error + ")" : "")].forEach(function (v) {
          row.appendChild(el("td", String(v)));
        });
      });
      if (!rows.length) box.appendChild(el("p", "Nothing sent yet.", "muted"));
      else box.appendChild(table);
    });
  }

  function render() {
    var list = document.getElementById("watch-list");
    var areas = stored();
    list.textContent = "";
    if (!areas.length) { list.appendChild(el("p", "None yet in this browser.", "muted")); return; }
    areas.forEach(function (entry) {
      var box = el("article", undefined, "watch-area");
      box.dataset.subscription = entry.id;
      box.appendChild(el("h3", entry.shape ? shapeLabel(entry.shape) : entry.label));
      var remove = el("button", "Stop watching", "button button--quiet");
      remove.type = "button";
      remove.addEventListener("click", function () {
        fetch("/api/v1/subscriptions/" + entry.id, {
          method: "DELETE", headers: { Authorization: "Bearer " + entry.token },
        }).then(function () {
          store(stored().filter(function (e) { return e.id !== entry.id; }));
          render();
        });
      });
      box.appendChild(remove);
      list.appendChild(box);
      renderState(entry, box);
      renderLog(entry, box);
    });
  }

  function init() {
    var form = document.getElementById("watch-form");
    var status = document.getElementById("watch-status");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var shape = { type: "circle", lat: parseFloat(form.elements.lat.value),
                    lon: parseFloat(form.elements.lon.value),
                    radius_m: parseFloat(form.elements.radius_m.value) };
      status.textContent = "Saving…";
      channelFrom(form).then(function (channel) {
        return fetch("/api/v1/subscriptions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            area: shape, /* turned into cells by the server, which keeps no centre */
            min_severity: parseInt(form.elements.min_severity.value, 10),
            channels: [channel],
          }),
        });
      }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.detail || "The area could not be saved.");
          return body;
        });
      }).then(function (body) {
        if (body.status === "exists") { status.textContent = body.detail; return; }
        var s = body.subscription;
        var label = shapeLabel(shape);
        var areas = stored();
        areas.push({ id: s.id, token: body.manage_token, shape: shape });
        store(areas);
        var pending = s.channels.some(function (c) { return !c.confirmed; });
        status.textContent = "Watching " + label + "." + (pending ?
          " Check the mailbox: alerts start once the address confirms the link we sent." : "");
        render();
      }).catch(function (error) { status.textContent = error.message; });
    });
    render();
    window.setInterval(render, 5000); /* a delivery usually lands within seconds: show it soon */
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
