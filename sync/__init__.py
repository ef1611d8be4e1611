"""The sync engine both tiers share: module registry, sync specs, the mutation context,
server-side apply, pull and bootstrap reads, and the engine's own inbox tables.

Nothing here imports Litestar or Kivy: the server and the devices run the same code.
"""
