/* Place search: a combobox that suggests streets, corners and places as one types, and moves
 * the page's map to the one chosen; "Near me" asks the browser where it is.
 *
 * Loaded right after Leaflet and before the page scripts, so that L.Map.addInitHook sees every
 * map they create: no page script has to hand its map over. The position from "Near me" never
 * leaves the browser except as the page's own query (the feed's lat and lon). Without this
 * file the box is a plain form: /places lists the matches as links.
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

  var maps = [];
  if (typeof L !== "undefined" && L.Map && L.Map.addInitHook) {
    L.Map.addInitHook(function () { maps.push(this); });
  }
  /* Read-only view of the page's maps, for the browser tests (the centre a search moved to). */
  window.townsquareMaps = function () { return maps.slice(); };
  var PLACE_PARAMS = ["lat", "lon", "radius_m"];
  var KIND_LABELS = { street: "street", intersection: "corner", place: "place", address: "address" };

  function mapFor(box) {
    var id = box.dataset.mapId;
    for (var i = 0; i < maps.length; i++) {
      if (id && maps[i].getContainer().id === id) return maps[i];
    }
    return id ? null : maps[0] || null;
  }

  function moveMap(map, place) {
    if (!map) return;
    if (place.bbox) {
      map.fitBounds([[place.bbox[1], place.bbox[0]], [place.bbox[3], place.bbox[2]]],
        { animate: false, maxZoom: 17 });
    } else {
      map.setView([place.lat, place.lon], place.zoom || 16, { animate: false });
    }
  }

  /* The page's own form takes the place (feed, weekly, alerts): its lat and lon. A page with
   * neither map nor form (the results page) opens the page the search came from there. */
  function fillForm(box, lat, lon) {
    var form = box.dataset.fill ? document.querySelector(box.dataset.fill) : null;
    if (!form && !mapFor(box) && box.dataset.to) {
      window.location.assign(box.dataset.to + "?lat=" + lat.toFixed(5) + "&lon=" + lon.toFixed(5));
      return;
    }
    if (!form || !form.elements.lat || !form.elements.lon) return;
    form.elements.lat.value = lat.toFixed(5);
    form.elements.lon.value = lon.toFixed(5);
    form.elements.lat.dispatchEvent(new Event("change", { bubbles: true }));
    if (box.hasAttribute("data-submit")) form.requestSubmit();
  }

  function initBox(box) {
    var input = box.querySelector("[role=combobox]");
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = box.querySelector("[data-place-status]");
    var owner = input.form;
    var found = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(places) {
      found = places;
      list.replaceChildren();
      places.forEach(function (place, i) {
        var option = document.createElement("li");
        var detail = document.createElement("span");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "place-option";
        option.append(place.name);
        detail.className = "place-option-detail";
        detail.textContent = [KIND_LABELS[place.kind], place.city].filter(Boolean).join(" · ");
        option.append(detail);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); /* keep focus in the box */
          choose(i);
        });
        list.append(option);
      });
      var open = places.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
      status.textContent = open
        ? tr(places.length === 1 ? "{n} place found; use up and down to choose." : "{n} places found; use up and down to choose.", { n: places.length })
        : tr("No place found.");
    }

    function query(text, then) {
      var params = new URLSearchParams({ q: text, limit: "8" });
      var map = mapFor(box);
      if (map) {
        var centre = map.getCenter();
        params.set("lat", centre.lat.toFixed(3));
        params.set("lon", centre.lng.toFixed(3));
      }
      var mine = ++asked;
      fetch("/api/v1/places?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (places) { if (mine === asked) then(places); })
        .catch(function () {
          if (mine !== asked) return;
          close();
          status.textContent = tr("Place search is not available right now.");
        });
    }

    function choose(index) {
      var place = found[index];
      if (!place) return;
      input.value = place.name;
      close();
      status.textContent = "Showing " + place.name + ".";
      moveMap(mapFor(box), place);
      fillForm(box, place.lat, place.lon);
      document.dispatchEvent(new CustomEvent("townsquare:place", { detail: place }));
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var text = input.value.trim();
      if (text.length < 2) { asked++; close(); return; }
      timer = window.setTimeout(function () { query(text, show); }, 150);
    });

    input.addEventListener("keydown", function (event) {
      var count = found.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          if (count) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + count) % count);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (!list.hidden && active >= 0) { choose(active); return; }
        var text = input.value.trim();
        if (text) query(text, function (places) { show(places); if (places.length) choose(0); });
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);

    if (owner) {
      owner.addEventListener("submit", function (event) {
        event.preventDefault();
        var text = input.value.trim();
        if (text) query(text, function (places) { show(places); if (places.length) choose(0); });
      });
    }

    var nearMe = box.querySelector("[data-near-me]");
    if (nearMe && navigator.geolocation) {
      nearMe.hidden = false;
      nearMe.addEventListener("click", function () {
        status.textContent = tr("Finding where you are…");
        navigator.geolocation.getCurrentPosition(function (position) {
          var lat = position.coords.latitude;
          var lon = position.coords.longitude;
          status.textContent = tr("Showing where you are.");
          moveMap(mapFor(box), { lat: lat, lon: lon, zoom: 16 });
          fillForm(box, lat, lon);
        }, function () {
          status.textContent = tr("Your browser did not give a position.");
        }, { enableHighAccuracy: false, maximumAge: 60000, timeout: 15000 });
      });
    }
  }

  /* The place travels: links to the other pages of a place carry the feed's lat, lon, radius. */
  function carryPlace() {
    var here = new URLSearchParams(window.location.search);
    document.querySelectorAll("a[data-place-link]").forEach(function (link) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      PLACE_PARAMS.forEach(function (name) {
        var value = here.get(name);
        if (value) url.searchParams.set(name, value); else url.searchParams.delete(name);
      });
      link.setAttribute("href", url.pathname + url.search);
    });
  }

  function init() {
    document.querySelectorAll("[data-place-search]").forEach(initBox);
    carryPlace();
    document.body.addEventListener("htmx:pushedIntoHistory", carryPlace);
    window.addEventListener("popstate", carryPlace);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
