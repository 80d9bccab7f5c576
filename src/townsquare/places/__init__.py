"""Place search: an offline geocoder built from OpenStreetMap extracts and address points.

One service interface (`service.Geocoder`) answers both the search box and the feeds that
publish addresses without points; the local backend reads a SQLite file with FTS5, the
optional remote one speaks Photon or Nominatim.
"""
