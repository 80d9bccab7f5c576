"""Residents' posts: guidelines, states, publication as resident incidents."""
