"""Helpers shared by every layer: number formatting, walkers over nested structures, and the one place that
reaches into Keras's private API. Nothing here imports the rest of the package."""
