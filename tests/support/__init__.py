"""Shared test helpers: one test PKI (:mod:`.pki`, certomancer) and one PDF maker (:mod:`.pdfs`)."""
