/* Maps of the staff pages: a box drawn on the desk's map narrows its queue; a polygon drawn
 * vertex by vertex on the operator's agency page is an agency's jurisdiction.
 *
 *   <div data-box-map data-form="#form">      two clicks set the form's south/west/north/east
 *   <div data-polygon-map data-field="#input"> clicks add vertices; the input gets the GeoJSON
 *
 * Both forms work without this file: the fields are typed, or a GeoJSON file is uploaded.
 */
(function () {
  "use strict";

  var STYLE = { color: "#0f5fa8", weight: 2, fillOpacity: 0.15 };

  function number(value) {
    var n = parseFloat(value);
    return isFinite(n) ? n : null;
  }

  function startView(map, element, fallback) {
    var lat = number(element.dataset.lat);
    var lon = number(element.dataset.lon);
    if (fallback && fallback.getBounds && fallback.getBounds().isValid()) {
      map.fitBounds(fallback.getBounds(), { maxZoom: 15, animate: false });
    } else {
      map.setView([lat === null ? 47.6062 : lat, lon === null ? -122.3321 : lon], 12);
    }
  }

  /* Opened inside a closed <details>, a map has no size until it shows: measure it then. */
  function resizeOnOpen(map, element) {
    var details = element.closest("details");
    if (details) details.addEventListener("toggle", function () { map.invalidateSize(); });
  }

  function initBox(element) {
    var form = document.querySelector(element.dataset.form);
    if (!form) return;
    var map = window.TownsquareBasemap.create(element, { scrollWheelZoom: false });
    var f = form.elements;
    var rect = null;
    var lat = number(f.lat.value);
    var lon = number(f.lon.value);
    var circle = null;
    var south = number(f.south.value), west = number(f.west.value);
    var north = number(f.north.value), east = number(f.east.value);
    if ([south, west, north, east].indexOf(null) < 0) {
      rect = L.rectangle([[south, west], [north, east]], STYLE).addTo(map);
    } else if (lat !== null && lon !== null) {
      circle = L.circle([lat, lon], L.extend({ radius: number(f.radius_m.value) || 2000 }, STYLE))
        .addTo(map);
    }
    if (lat === null) { element.dataset.lat = element.dataset.defaultLat; }
    else { element.dataset.lat = lat; element.dataset.lon = lon; }
    if (lon === null) element.dataset.lon = element.dataset.defaultLon;
    startView(map, element, rect || circle);
    resizeOnOpen(map, element);

    var button = document.querySelector("[data-draw-box]");
    var hint = document.querySelector("[data-draw-hint]");
    var corner = null;
    var drawing = false;
    function say(text) { if (hint) hint.textContent = text; }
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        drawing = !drawing;
        corner = null;
        button.setAttribute("aria-pressed", drawing ? "true" : "false");
        say(drawing ? "Click one corner of the box on the map, then the opposite one." : "");
      });
    }
    map.on("click", function (event) {
      if (!drawing) return;
      if (!corner) {
        corner = event.latlng;
        say("Now click the opposite corner.");
        return;
      }
      var bounds = L.latLngBounds(corner, event.latlng);
      if (rect) rect.setBounds(bounds); else rect = L.rectangle(bounds, STYLE).addTo(map);
      if (circle) { map.removeLayer(circle); circle = null; }
      f.south.value = bounds.getSouth().toFixed(5);
      f.west.value = bounds.getWest().toFixed(5);
      f.north.value = bounds.getNorth().toFixed(5);
      f.east.value = bounds.getEast().toFixed(5);
      drawing = false;
      corner = null;
      if (button) button.setAttribute("aria-pressed", "false");
      say("Box drawn: press “Show these” to narrow the queue.");
    });
  }

  /* The agency's area shown dashed; with a field to write to, a polygon drawn on top. */
  function initPolygon(element) {
    var field = element.dataset.field ? document.querySelector(element.dataset.field) : null;
    var map = window.TownsquareBasemap.create(element, { scrollWheelZoom: false });
    var shown = null;
    if (element.dataset.jurisdiction) {
      try {
        shown = L.geoJSON(JSON.parse(element.dataset.jurisdiction),
          { style: { color: "#5c6b80", weight: 1.5, dashArray: "6 4", fill: false } }).addTo(map);
      } catch (e) { shown = null; }
    }
    startView(map, element, shown);
    resizeOnOpen(map, element);
    if (!field) {
      // Only shown, not drawn on: keep the whole area in view when the window changes size.
      map.on("resize", function () { startView(map, element, shown); });
      return;
    }
    var tools = element.parentNode.querySelector("[data-polygon-tools]");
    var hint = element.parentNode.querySelector("[data-polygon-hint]");
    var vertices = [];
    var shape = null;
    function write() {
      if (shape) shape.setLatLngs(vertices);
      else shape = L.polygon(vertices, L.extend({ className: "drawn-polygon" }, STYLE)).addTo(map);
      if (vertices.length < 3) {
        field.value = "";
      } else {
        var ring = vertices.map(function (v) { return [+v.lng.toFixed(6), +v.lat.toFixed(6)]; });
        ring.push(ring[0]);
        field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      }
      if (hint) {
        hint.textContent = vertices.length
          ? vertices.length + (vertices.length === 1 ? " corner" : " corners") +
            (vertices.length < 3 ? ": at least 3 make an area." : ": the area is ready to send.")
          : "Click the map at each corner of the area, in order.";
      }
    }
    map.on("click", function (event) {
      vertices.push(event.latlng);
      write();
    });
    if (tools) {
      tools.hidden = false;
      tools.querySelector("[data-polygon-undo]").addEventListener("click", function () {
        vertices.pop();
        write();
      });
      tools.querySelector("[data-polygon-clear]").addEventListener("click", function () {
        vertices = [];
        write();
      });
    }
    write();
  }

  function init() {
    if (typeof L === "undefined" || !window.TownsquareBasemap) return;
    document.querySelectorAll("[data-box-map]").forEach(initBox);
    document.querySelectorAll("[data-polygon-map]").forEach(initPolygon);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
