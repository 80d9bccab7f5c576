/* Townsquare pages: the maps (Leaflet) and the bits of behaviour htmx does not give.
 *
 * The server-rendered list is the source of truth: every list item carries its point
 * (data-lat, data-lon), so after each htmx swap the markers are redrawn from the list.
 * The street basemap is basemap.js's (this server's own tiles); no request leaves the server
 * unless the operator configured an external tile URL.
 */
(function () {
  "use strict";

  /* The page's language: its words for this script's sentences (base.html, when not English). */
  var TEXT = (function () {
    var el = document.getElementById("script-text");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();
  function tr(text, values) {
    var shown = TEXT[text] || text;
    Object.keys(values || {}).forEach(function (k) { shown = shown.split("{" + k + "}").join(values[k]); });
    return shown;
  }
  var SPANISH = document.documentElement.lang === "es";

  var FALLBACK_COLOUR = "#6b7385";

  function categoryColour(element) {
    var value = window.getComputedStyle(element).getPropertyValue("--cat").trim();
    return value || FALLBACK_COLOUR;
  }

  function baseMap(element, options) {
    return window.TownsquareBasemap.create(element, options);
  }

  /* ---- markers: one icon per category group, clusters when zoomed out ---- */

  function markerIcon(icon, closed) {
    return L.divIcon({
      className: "map-marker",
      html: '<span class="map-icon map-icon--' + icon + (closed ? " map-icon--closed" : "") + '"></span>',
      iconSize: [28, 28],
      iconAnchor: [14, 14],
      popupAnchor: [0, -12],
    });
  }

  function clusterLayer() {
    if (!L.markerClusterGroup) return L.featureGroup(); /* vendored plugin missing: no clusters */
    return L.markerClusterGroup({
      maxClusterRadius: 60,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      chunkedLoading: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 10 ? 32 : n < 100 ? 38 : 44;
        return L.divIcon({
          className: "map-marker map-marker--cluster",
          html: '<span class="map-cluster">' + n + "</span>",
          iconSize: [size, size],
        });
      },
    }).on("animationend", nameClusters).on("layeradd", nameClusters);
  }

  /* A cluster is a button: say what it holds. */
  function nameClusters() {
    document.querySelectorAll(".map-marker--cluster").forEach(function (el) {
      if (el.getAttribute("aria-label")) return;
      el.setAttribute("aria-label", tr("{n} incidents here: zoom in", { n: el.textContent }));
      el.setAttribute("title", tr("{n} incidents here", { n: el.textContent }));
    });
  }

  /* ---- relative ages ("12 min ago"), kept fresh while the page stays open ---- */

  function relativeAge(iso, now) {
    var minutes = Math.floor((now - Date.parse(iso)) / 60000);
    if (!(minutes >= 1)) return tr("just now");
    if (minutes < 60) return tr("{n} min ago", { n: minutes });
    if (minutes < 48 * 60) return tr("{n} h ago", { n: Math.floor(minutes / 60) });
    return tr("{n} days ago", { n: Math.floor(minutes / (24 * 60)) });
  }

  function refreshAges() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      el.textContent = relativeAge(el.getAttribute("datetime"), now);
    });
  }

  /* ---- local times: the server writes them in the area's zone; the reader's own wins ---- */

  var ZONE = (function () {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  })();
  var LOCAL_OPTIONS = {
    datetime: { day: "numeric", month: "short", hour: "numeric", minute: "2-digit", timeZoneName: "short" },
    time: { hour: "numeric", minute: "2-digit", timeZoneName: "short" },
    date: { day: "numeric", month: "short", year: "numeric" },
  };

  /* "7 Dec, 4:52 AM PST": day before month, whatever the browser's language. */
  function localText(date, style, zone) {
    var options = Object.assign({}, LOCAL_OPTIONS[style] || LOCAL_OPTIONS.datetime);
    if (zone) options.timeZone = zone;
    if (style === "datetime" && date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    if (SPANISH) options.hourCycle = "h23";
    var parts = {};
    new Intl.DateTimeFormat(SPANISH ? "es-ES" : "en-US", options).formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var day = parts.day ? parts.day + " " + parts.month + (parts.year ? " " + parts.year : "") : "";
    if (style === "date") return day;
    var clock = parts.hour + ":" + parts.minute + " " + (parts.dayPeriod || "") + " " + parts.timeZoneName;
    return (day ? day + ", " : "") + clock.replace(/\s+/g, " ").trim();
  }

  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      el.textContent = localText(date, el.dataset.local, "");
    });
  }

  /* The wall time `value` ("2026-12-07T04:52") in `zone`, as an instant. */
  function instantIn(value, zone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
    if (!m) return null;
    var wall = Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]);
    var guess = wall;
    for (var i = 0; i < 2; i++) guess = wall - (wallOf(new Date(guess), zone) - guess);
    return new Date(guess);
  }

  function wallOf(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit",
    }).formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return Date.UTC(+parts.year, parts.month - 1, +parts.day, +parts.hour, +parts.minute);
  }

  function inputValue(date) {
    var wall = new Date(wallOf(date, ZONE));
    return wall.toISOString().slice(0, 16);
  }

  /* Forms with times: their datetime-local fields move into the reader's zone, and the form
     says which zone it sends (the server reads the times in it). */
  function localForms() {
    if (!ZONE) return;
    document.querySelectorAll("input[data-time-zone]").forEach(function (field) {
      var from = field.value;
      if (from !== ZONE) {
        field.form.querySelectorAll('input[type="datetime-local"]').forEach(function (input) {
          var instant = input.value && instantIn(input.value, from);
          if (instant) input.value = inputValue(instant);
        });
        field.value = ZONE;
      }
      field.form.querySelectorAll("[data-zone-name]").forEach(function (el) {
        el.textContent = ZONE;
      });
    });
  }

  /* ---- the feed page ---- */

  function initFeed(element) {
    var map = baseMap(element, {});
    var form = document.getElementById("search");
    var searchHere = document.getElementById("search-here");
    var status = document.getElementById("live-status");
    if (!map.options.maxZoom) map.setMaxZoom(19); /* clusters need a deepest zoom */
    var markers = clusterLayer().addTo(map);
    var byId = {};
    var area = null;
    var shown = null; /* "lat,lon,radius" of the search drawn */
    var pointsKey = null; /* the query of the points drawn */
    var pointsAsked = null;

    function results() { return document.getElementById("results"); }

    function select(id, scroll) {
      document.querySelectorAll(".incident.is-selected").forEach(function (li) {
        li.classList.remove("is-selected");
      });
      document.querySelectorAll(".map-marker.is-selected").forEach(function (el) {
        el.classList.remove("is-selected");
      });
      var item = document.querySelector('.incident[data-incident="' + id + '"]');
      var marker = byId[id];
      if (item) item.classList.add("is-selected");
      var el = marker && marker.getElement && marker.getElement();
      if (el) el.classList.add("is-selected");
      if (item && scroll) item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }

    function drawArea(box) {
      var lat = parseFloat(box.dataset.lat);
      var lon = parseFloat(box.dataset.lon);
      var radius = parseFloat(box.dataset.radius);
      if (!isFinite(lat) || !isFinite(lon) || !isFinite(radius)) return;
      var key = [lat, lon, radius].join(",");
      if (key === shown) return;
      shown = key;
      if (area) area.remove();
      area = L.circle([lat, lon], {
        radius: radius, interactive: false, className: "search-area", weight: 1.5,
        fillOpacity: 0.04,
      }).addTo(map);
      map.fitBounds(L.latLng(lat, lon).toBounds(radius * 2.1), { animate: false });
      searchHere.hidden = true;
    }

    function popupFor(point) {
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = "/incidents/" + point.id;
      link.textContent = point.title;
      var meta = document.createElement("p");
      meta.textContent = point.label + (point.closed ? " · closed" : " · active");
      box.append(link, meta);
      return box;
    }

    function drawPoints(points) {
      markers.clearLayers();
      byId = {};
      var layers = points.slice().reverse().map(function (point) {
        /* oldest first, so the newest lie on top where points coincide */
        var marker = L.marker([point.lat, point.lon], {
          icon: markerIcon(point.icon, point.closed),
          title: point.title + " · " + point.label + (point.closed ? " (closed)" : ""),
          alt: point.title,
          riseOnHover: true,
        });
        marker.point = point;
        marker.bindPopup(popupFor(point));
        marker.on("click", function () { select(point.id, true); });
        byId[point.id] = marker;
        return marker;
      });
      if (markers.addLayers) markers.addLayers(layers); else layers.forEach(function (m) { markers.addLayer(m); });
      nameClusters();
    }

    function wireList(box) {
      box.querySelectorAll(".incident[data-incident]").forEach(function (item) {
        if (item.dataset.wired) return;
        item.dataset.wired = "1";
        item.addEventListener("mouseenter", function () { select(item.dataset.incident, false); });
        item.addEventListener("focusin", function () { select(item.dataset.incident, false); });
      });
    }

    /* The map's points: the whole area (not only the list's page), active and lately closed. */
    function loadPoints(box) {
      if (!box.dataset.lat) {
        markers.clearLayers();
        byId = {};
        pointsKey = pointsAsked = null;
        return;
      }
      var params = new URLSearchParams({
        lat: box.dataset.lat, lon: box.dataset.lon, radius_m: box.dataset.radius,
        category: box.dataset.category || "",
      });
      if (box.dataset.q) params.set("q", box.dataset.q);
      var key = params.toString();
      if (key === pointsKey) { box.dataset.mapped = String(Object.keys(byId).length); return; }
      if (key === pointsAsked) return;
      pointsAsked = key;
      fetch("/fragments/map-points?" + key, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || pointsAsked !== key) return;
          pointsKey = key;
          drawPoints(body.points);
          var more = document.getElementById("map-more");
          more.hidden = !body.more;
          more.textContent = body.more ? tr("The map shows the newest {n} incidents: zoom or filter to see the rest.", { n: body.points.length }) : "";
          var shownBox = results();
          if (shownBox === box) shownBox.dataset.mapped = String(body.points.length);
        })
        .catch(function () { pointsAsked = null; });
    }

    function syncForm(box) {
      if (!box.dataset.lat) return;
      form.elements.lat.value = Number(box.dataset.lat).toFixed(4);
      form.elements.lon.value = Number(box.dataset.lon).toFixed(4);
    }

    function redraw() {
      var box = results();
      if (!box) return;
      drawArea(box);
      wireList(box);
      loadPoints(box);
    }

    function searchAt(latlng) {
      form.elements.lat.value = latlng.lat.toFixed(4);
      form.elements.lon.value = latlng.lng.toFixed(4);
      form.requestSubmit();
    }

    map.on("click", function (event) { searchAt(event.latlng); });
    map.on("zoomend moveend", nameClusters);
    var legend = document.getElementById("legend");
    if (legend && window.matchMedia("(max-width: 56rem)").matches) legend.open = false;
    map.on("moveend", function () {
      if (!area) return;
      var away = map.getCenter().distanceTo(area.getLatLng());
      searchHere.hidden = away < area.getRadius() / 2;
    });
    searchHere.addEventListener("click", function () { searchAt(map.getCenter()); });

    document.body.addEventListener("htmx:afterSettle", function () {
      var box = results();
      redraw();
      refreshAges();
      var first = box && box.querySelector("[data-focus]");
      if (first) {
        first.removeAttribute("data-focus");
        first.querySelector("a").focus();
      } else if (box) {
        syncForm(box);
      }
      var summary = box && box.querySelector("[data-summary]");
      var error = box && box.querySelector('[role="alert"]');
      status.textContent = error ? error.textContent.trim() : summary ? summary.textContent.trim() : "";
    });
    function showProblem(text) {
      status.textContent = text;
      var box = results();
      if (!box) return;
      var notice = box.querySelector(".notice--transient") || document.createElement("div");
      notice.className = "notice notice--error notice--transient";
      notice.setAttribute("role", "alert");
      notice.textContent = text;
      var head = box.querySelector(".results-head");
      if (head) head.after(notice); else box.prepend(notice);
    }
    document.body.addEventListener("htmx:sendError", function () {
      showProblem(tr("The server could not be reached. Check your connection and try again."));
    });
    document.body.addEventListener("htmx:responseError", function () {
      showProblem(tr("Something went wrong on our side. Please try again in a moment."));
    });

    /* Live updates: the stream of the area shown; any change reloads the first page of the
     * list (server-rendered, so it looks the same), unless older pages are being read. */
    var live = null;
    var liveKey = null;
    var news = null; /* announced after the swap, which resets the status line */
    /* Older pages loaded into the list: a live reload would throw the reader back to the top. */
    var readingOlder = false;
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      var elt = event.detail.elt;
      if (elt && elt.closest && elt.closest(".load-more")) readingOlder = true;
    });
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      /* a live reload that lands after the reader asked for older pages is dropped */
      var headers = event.detail.requestConfig && event.detail.requestConfig.headers;
      if (readingOlder && headers && headers["X-Live-Reload"]) event.detail.shouldSwap = false;
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "results") readingOlder = false;
    });
    function follow() {
      if (news) { status.textContent = news; news = null; }
      var box = results();
      if (!box || !box.dataset.lat || typeof EventSource === "undefined") return;
      var query = "lat=" + box.dataset.lat + "&lon=" + box.dataset.lon + "&radius_m=" + box.dataset.radius;
      if (query === liveKey) return;
      if (live) live.close();
      liveKey = query;
      live = new EventSource("/api/v1/stream?" + query);
      ["incident.published", "incident.updated", "incident.removed"].forEach(function (name) {
        live.addEventListener(name, function (event) {
          if (readingOlder || new URLSearchParams(location.search).get("cursor")) {
            status.textContent = tr("New incidents above: search again to see them.");
            return;
          }
          var params = new URLSearchParams(new FormData(form));
          htmx.ajax("GET", "/fragments/incidents?" + params.toString(), {
            target: "#results", swap: "outerHTML", headers: { "X-Live-Reload": "1" },
          });
          if (name === "incident.published") news = "New: " + JSON.parse(event.data).properties.title;
        });
      });
    }
    document.body.addEventListener("htmx:afterSettle", follow);
    follow();

    redraw();
    if (!shown) {
      map.setView([parseFloat(element.dataset.defaultLat), parseFloat(element.dataset.defaultLon)], 13);
    }
  }

  /* ---- an incident's page ---- */

  function initIncident(element) {
    var map = baseMap(element, { scrollWheelZoom: false });
    var point = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lon)];
    var colour = categoryColour(element);
    /* The published point is an H3 cell centre: draw the ~100 m it stands for. */
    L.circle(point, {
      radius: 120, interactive: false, color: colour, weight: 1, fillOpacity: 0.12,
    }).addTo(map);
    L.marker(point, {
      icon: markerIcon(element.dataset.icon || "other", element.dataset.status === "closed"),
      keyboard: false, interactive: false,
    }).addTo(map);
    map.setView(point, 16);
  }

  /* ---- the menu: open in the bar on wide screens, folded behind "Menu" on phones ---- */

  function initMenu() {
    var menu = document.querySelector("[data-menu]");
    if (!menu) return;
    var wide = window.matchMedia("(min-width: 56.01rem)");
    function fit() { menu.open = wide.matches; }
    fit();
    wide.addEventListener("change", fit);
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || wide.matches || !menu.open) return;
      menu.open = false;
      menu.querySelector("summary").focus();
    });
    document.addEventListener("click", function (event) {
      if (!wide.matches && menu.open && !menu.contains(event.target)) menu.open = false;
    });
  }

  function init() {
    initMenu();
    try { localTimes(); localForms(); } catch (e) { /* old browser: the server's zone stays */ }
    document.body.addEventListener("htmx:afterSettle", function (event) { localTimes(event.target); });
    if (typeof L === "undefined") return; /* vendored Leaflet missing: the lists still work */
    var feed = document.querySelector('[data-map="feed"]');
    if (feed) initFeed(feed);
    var incident = document.querySelector('[data-map="incident"]');
    if (incident) initIncident(incident);
    refreshAges();
    window.setInterval(refreshAges, 60000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
