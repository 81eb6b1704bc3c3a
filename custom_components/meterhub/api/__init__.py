"""Provider clients: async, typed, and free of Home Assistant imports.

Each module here could become its own package. The Home Assistant side only sees the exception tree
in :mod:`.errors` and the typed models a client returns.
"""
