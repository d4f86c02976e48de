"""Remote signing (CSC API v1)."""
