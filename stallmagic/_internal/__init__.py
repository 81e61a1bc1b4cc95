"""Helpers shared by every layer: number formatting, quoting user objects in messages, walkers over nested
structures, and the one place that reaches into Keras's private API. Nothing here imports the rest of the package."""
