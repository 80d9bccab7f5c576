"""Footage: residents' cameras and clips, agencies' bounded public requests, their shares."""
