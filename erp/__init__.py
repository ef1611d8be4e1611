"""Business modules, shared by the server (authoritative) and the devices (optimistic).

Each sub-package is one module with a manifest, ``MODULE``, in its ``__init__``; the engine
finds them with ``sync.registry.discover()``. Modules never import Litestar or Kivy.
"""
