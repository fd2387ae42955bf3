"""Use cases shared by every entry point (portal, ERP hooks, CLI, jobs); no flask.request."""
