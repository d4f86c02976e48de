"""Change rules: what happened to a document after each signature (revision against revision)."""
