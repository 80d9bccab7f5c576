/* The weekly summary page: draw the area on a small map; a click moves the centre in the form. */
(function () {
  "use strict";

  function init() {
    var element = document.querySelector('[data-map="weekly"]');
    var form = document.querySelector("[data-weekly-form]");
    if (!element || !form || typeof L === "undefined") return;
    var map = window.TownsquareBasemap.create(element, {});
    var circle = null;
    function draw() {
      var lat = parseFloat(form.elements.lat.value);
      var lon = parseFloat(form.elements.lon.value);
      var radius = parseFloat(form.elements.radius_m.value);
      if (!(isFinite(lat) && isFinite(lon) && isFinite(radius))) return false;
      if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return false;
      if (circle) map.removeLayer(circle);
      /* A circle has bounds only on a map that already has a view. */
      if (!circle) map.setView([lat, lon], 14, { animate: false });
      circle = L.circle([lat, lon], { radius: radius, className: "search-area", weight: 2, fillOpacity: 0.06 })
        .addTo(map);
      map.fitBounds(circle.getBounds(), { animate: false, padding: [12, 12] });
      return true;
    }
    map.on("click", function (event) {
      form.elements.lat.value = event.latlng.lat.toFixed(5);
      form.elements.lon.value = event.latlng.lng.toFixed(5);
      draw();
    });
    form.elements.radius_m.addEventListener("change", draw);
    if (!draw()) {
      map.setView([parseFloat(element.dataset.defaultLat), parseFloat(element.dataset.defaultLon)], 13);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
