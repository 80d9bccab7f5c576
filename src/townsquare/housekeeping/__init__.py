"""Housekeeping: the periodic jobs that act across domains (retention, the release of delayed
incidents) and data rights. Each domain keeps its own rules (`<domain>/retention.py`,
`<domain>/export.py`); this layer only runs them together. Nothing below imports it.
"""
