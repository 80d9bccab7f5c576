"""Accounts: sign-up, sign-in, sessions, API tokens, roles, two-factor, e-mail links."""
