"""Residents' photos and clips: private originals, stripped and blurred public derivatives."""
