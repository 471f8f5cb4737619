"""The pages people look at: a small static app under /ui/ that reads the public REST API
with the user's key, and the offline /docs and /redoc. Every asset is served from here."""
