"""One module per ported program (see ../README.md): ``CASE`` and ``build(mirror, variant)``."""
