/* Service worker for Townsquare push alerts: show the notification, open the incident. */
self.addEventListener("push", function (event) {
  var data = event.data ? event.data.json() : { title: "Townsquare alert" };
  event.waitUntil(self.registration.showNotification(data.title, {
    body: data.body || "", data: { url: data.url || "/" }, tag: "incident-" + data.incident_id,
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(clients.openWindow(event.notification.data.url));
});
