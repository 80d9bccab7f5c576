"""The self-hosted street basemap: PMTiles archives built from OpenStreetMap extracts.

`archive` finds and describes the archives the app serves, `osm` reads an extract into map
features in the Protomaps basemap v4 schema, `build` turns those into a PMTiles archive
(tippecanoe), `views` serves the archives with HTTP range requests and `cli` is
`townsquare tiles build|list`.
"""
