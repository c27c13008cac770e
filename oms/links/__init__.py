"""Signed customer links: one document reachable per link, expiring and revocable."""
