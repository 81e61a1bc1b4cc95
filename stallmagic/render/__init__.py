"""Rendering that needs no live kernel: curves as SVG and matplotlib figures (:mod:`.plot`), HTML fragments and
the report files (:mod:`.export`). Every string from the user's code or data is escaped here."""
