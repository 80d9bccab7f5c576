"""The weekly summary of a neighbourhood: counts by category against the same weeks before."""
