"""Readers' feedback on alerts ("not useful", "inaccurate") and the desk's quality figures."""
