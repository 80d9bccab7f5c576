"""Open311 GeoReport v2: civic-reporting clients read the public feed and post through it."""
