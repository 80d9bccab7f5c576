/* The new-post page: pick the place on a map, fill the time in the browser's zone, show the
 * person fields only when they apply. The form works without this file (coordinates typed,
 * time in UTC); the guideline checks come from htmx. */
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function localValue(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function initTime(form) {
    var input = form.elements.occurred_at;
    var offset = form.elements.tz_offset;
    if (!input.value) input.value = localValue(new Date());
    input.max = localValue(new Date(Date.now() + 5 * 60000));
    function sync() {
      var chosen = input.value ? new Date(input.value) : new Date();
      offset.value = String(isNaN(chosen.getTime()) ? new Date().getTimezoneOffset() : chosen.getTimezoneOffset());
    }
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    sync();
  }

  function initPerson(form) {
    var about = form.elements.about_person;
    var suspicious = form.elements.suspicious;
    var fields = form.querySelector("[data-person-fields]");
    var couldBe = form.querySelector("[data-could-be]");
    function sync() {
      fields.hidden = !about.checked;
      couldBe.hidden = !suspicious.checked;
    }
    about.addEventListener("change", sync);
    suspicious.addEventListener("change", sync);
    sync();
  }

  function initMap(form, element) {
    if (typeof L === "undefined") return;
    var map = window.TownsquareBasemap.create(element, {});
    var lat = form.elements.lat;
    var lon = form.elements.lon;
    var pin = null;
    function place(latlng, pan) {
      if (pin) pin.setLatLng(latlng);
      else pin = L.circleMarker(latlng, {
        radius: 9, color: "#0f1b2d", weight: 2.5, fillColor: "#0f5fa8", fillOpacity: 0.9,
        className: "pick-marker",
      }).addTo(map);
      if (pan) map.panTo(latlng);
    }
    function fromInputs() {
      var a = parseFloat(lat.value);
      var b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) place([a, b], true);
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      place(event.latlng, false);
      lat.dispatchEvent(new Event("change", { bubbles: true }));
    });
    lat.addEventListener("change", fromInputs);
    lon.addEventListener("change", fromInputs);
    var start = [parseFloat(element.dataset.defaultLat), parseFloat(element.dataset.defaultLon)];
    map.setView(start, 15);
    fromInputs();
  }

  /* Once the form is sent, a check still waiting for its delay would only be cut off by the
     * page change: it is not started. */
  function initSubmit(form) {
    var sending = false;
    form.addEventListener("submit", function () { sending = true; });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (sending) event.preventDefault();
    });
  }

  /* The agency portal: click the circle's centre, the radius input sizes it; or draw a
   * polygon vertex by vertex (written as GeoJSON into the polygon field, which the server
   * prefers to the circle). The agency's jurisdiction is drawn dashed, its requests shaded. */
  function initAreaMap(form, element) {
    if (typeof L === "undefined") return;
    var map = window.TownsquareBasemap.create(element, {});
    function layer(data, style) {
      if (!data) return null;
      try {
        return L.geoJSON(JSON.parse(data), { style: style, interactive: false });
      } catch (e) { return null; }
    }
    var outline = layer(element.dataset.jurisdiction,
      { color: "#5c6b80", weight: 1.5, dashArray: "6 4", fill: false });
    var filed = layer(element.dataset.requests,
      { color: "#7c5a00", weight: 1, fillColor: "#ffe066", fillOpacity: 0.25 });
    if (outline && outline.getBounds().isValid()) {
      map.fitBounds(outline.getBounds(), { maxZoom: 15, animate: false });
    } else {
      map.setView([parseFloat(element.dataset.defaultLat), parseFloat(element.dataset.defaultLon)], 15);
    }
    if (outline) outline.addTo(map);
    if (filed) filed.addTo(map);
    var lat = form.elements.lat;
    var lon = form.elements.lon;
    var radius = form.elements.radius_m;
    var polygonField = form.elements.polygon;
    var modeButton = form.querySelector("[data-area-mode]");
    var clearButton = form.querySelector("[data-area-clear]");
    var circle = null;
    var shape = null;
    var vertices = [];
    var drawing = false;
    function draw(pan) {
      var a = parseFloat(lat.value);
      var b = parseFloat(lon.value);
      var r = parseFloat(radius.value);
      if (!(isFinite(a) && isFinite(b) && isFinite(r) && r > 0)) return;
      if (circle) { circle.setLatLng([a, b]); circle.setRadius(r); }
      else circle = L.circle([a, b], {
        radius: r, color: "#0f5fa8", weight: 2, fillOpacity: 0.15, className: "area-circle",
      }).addTo(map);
      if (pan) map.panTo([a, b]);
    }
    function writePolygon() {
      if (shape) shape.setLatLngs(vertices);
      else shape = L.polygon(vertices, {
        color: "#0f5fa8", weight: 2, fillOpacity: 0.15, className: "area-polygon",
      }).addTo(map);
      if (vertices.length < 3) { polygonField.value = ""; return; }
      var ring = vertices.map(function (v) { return [+v.lng.toFixed(6), +v.lat.toFixed(6)]; });
      ring.push(ring[0]);
      polygonField.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    }
    map.on("click", function (event) {
      if (drawing) {
        vertices.push(event.latlng);
        writePolygon();
        return;
      }
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      draw(false);
    });
    [lat, lon, radius].forEach(function (input) {
      input.addEventListener("input", function () { draw(false); });
      input.addEventListener("change", function () { draw(true); });
    });
    if (modeButton) {
      modeButton.hidden = false;
      modeButton.addEventListener("click", function () {
        drawing = !drawing;
        modeButton.setAttribute("aria-pressed", drawing ? "true" : "false");
        modeButton.textContent = drawing ? "Stop drawing the polygon" : "Draw a polygon instead";
        if (drawing) polygonField.closest("details").open = true;
      });
    }
    if (clearButton) {
      clearButton.hidden = false;
      clearButton.addEventListener("click", function () {
        vertices = [];
        polygonField.value = "";
        if (shape) { map.removeLayer(shape); shape = null; }
      });
    }
    draw(false);
  }

  function initFootage() {
    var camera = document.getElementById("camera-form");
    var pick = camera && camera.querySelector('[data-map="pick"]');
    if (pick) initMap(camera, pick);
    var request = document.getElementById("request-form");
    var areaMap = request && request.querySelector('[data-map="area"]');
    if (areaMap) initAreaMap(request, areaMap);
  }

  function init() {
    initFootage();
    var form = document.getElementById("post-form");
    if (!form) return;
    initSubmit(form);
    initTime(form);
    initPerson(form);
    var element = form.querySelector('[data-map="pick"]');
    if (element) initMap(form, element);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
