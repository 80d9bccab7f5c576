/* Watch areas: create one through the API, keep its manage token in this browser only,
 * list each area with its delivery log (what was sent, what failed, what is waiting). */
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
    var kind = form.elements.channel.value;
    var target = form.elements.target.value.trim();
    if (kind === "webpush") return pushChannel();
    if (kind === "email") return Promise.resolve({ kind: "email", address: target });
    return Promise.resolve({ kind: "webhook", url: target });
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
      box.appendChild(el("h3", entry.label));
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
      renderLog(entry, box);
    });
  }

  function init() {
    var form = document.getElementById("watch-form");
    var status = document.getElementById("watch-status");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var radius = parseFloat(form.elements.radius_m.value);
      status.textContent = "Saving…";
      channelFrom(form).then(function (channel) {
        return fetch("/api/v1/subscriptions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            area: { type: "circle", lat: parseFloat(form.elements.lat.value),
                    lon: parseFloat(form.elements.lon.value), radius_m: radius },
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
        var s = body.subscription;
        var label = (s.area.radius_m >= 1000 ? s.area.radius_m / 1000 + " km" : s.area.radius_m + " m") +
          " around " + s.area.lat.toFixed(4) + ", " + s.area.lon.toFixed(4);
        var areas = stored();
        areas.push({ id: s.id, token: body.manage_token, label: label });
        store(areas);
        status.textContent = "Watching " + label + ".";
        render();
      }).catch(function (error) { status.textContent = error.message; });
    });
    render();
    window.setInterval(render, 5000); /* a delivery usually lands within seconds: show it soon */
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
