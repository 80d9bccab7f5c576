"""What every route shares: request dependencies, feed parameters, problem+json, middleware.

This layer sits above the domains and below `web`, `platform`, `app` and `cli`: a domain's
`views.py` imports from here, never from another domain's views or from the platform.
"""
