/* The street basemap under every map: this server's own PMTiles archives (built from
 * OpenStreetMap extracts), drawn in the browser by protomaps-leaflet, so no request leaves
 * the server. Each archive covers a city; an archive is added once the view reaches its
 * bounds. Outside every archive the map shows a faint grid (drawn here, no request). An
 * operator who set an external tile URL (TOWNSQUARE_TILE_URL) gets those tiles instead.
 *
 *   var map = TownsquareBasemap.create(element, { scrollWheelZoom: false });
 */
(function () {
  "use strict";

  var INDEX_URL = "/tiles/index.json";
  var OSM = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
  var STREET_NAMES_ZOOM = 14;
  var index = null;

  /* The served archives, asked for once per page. */
  function archives() {
    if (!index) {
      index = window.fetch(INDEX_URL, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { archives: [] }; })
        .then(function (body) { return body.archives || []; })
        .catch(function () { return []; });
    }
    return index;
  }

  function grid() {
    var Grid = L.GridLayer.extend({
      createTile: function () {
        var size = this.getTileSize();
        var tile = document.createElement("canvas");
        tile.width = size.x;
        tile.height = size.y;
        var ctx = tile.getContext("2d");
        ctx.strokeStyle = "rgba(90, 110, 140, 0.10)";
        ctx.lineWidth = 1;
        for (var at = 0.5; at < size.x; at += size.x / 4) {
          ctx.beginPath();
          ctx.moveTo(at, 0);
          ctx.lineTo(at, size.y);
          ctx.moveTo(0, at);
          ctx.lineTo(size.x, at);
          ctx.stroke();
        }
        return tile;
      },
    });
    return new Grid({ className: "plain-grid" });
  }

  /* The default style names residential streets only from zoom 16; a resident looking at
     their neighbourhood (zoom 14-15) wants to read them. The labeler still drops names that
     would collide. */
  function streetNamesFrom(layer, zoom) {
    (layer.labelRules || []).forEach(function (rule) {
      if (rule.dataLayer === "roads" && rule.minzoom > zoom) rule.minzoom = zoom;
    });
  }

  function boundsOf(archive) {
    var b = archive.bounds; // west, south, east, north
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  /* Add each archive whose bounds the view reaches, once. */
  function follow(map, list) {
    var added = {};
    function update() {
      var view = map.getBounds();
      list.forEach(function (archive) {
        if (added[archive.name] || !view.intersects(boundsOf(archive))) return;
        added[archive.name] = protomapsL.leafletLayer({
          url: archive.url,
          flavor: "light",
          lang: "en",
          attribution: "",
          bounds: boundsOf(archive),
          minZoom: archive.min_zoom,
          maxDataZoom: archive.max_zoom,
          className: "basemap-tiles",
        });
        streetNamesFrom(added[archive.name], STREET_NAMES_ZOOM);
        added[archive.name].addTo(map);
        map.getContainer().classList.add("map--streets");
      });
    }
    map.whenReady(update);
    map.on("moveend", update);
  }

  function create(element, options) {
    var map = L.map(element, Object.assign({ attributionControl: false, zoomSnap: 0.5 }, options));
    var attribution = L.control.attribution({ prefix: false }).addTo(map);
    var external = element.dataset.tileUrl;
    if (external) {
      attribution.addAttribution(element.dataset.tileAttribution || OSM);
      L.tileLayer(external, { maxZoom: 19 }).addTo(map);
    } else {
      attribution.addAttribution(OSM);
      element.classList.add("map--plain");
      grid().addTo(map);
      if (typeof protomapsL !== "undefined") {
        archives().then(function (list) { follow(map, list); });
      }
    }
    L.control.scale({ position: "bottomleft" }).addTo(map);
    return map;
  }

  window.TownsquareBasemap = { create: create };
})();
