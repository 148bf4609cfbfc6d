"""Request and response bodies of the officer API (XCreate / XUpdate / XRead)."""
