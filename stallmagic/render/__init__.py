"""Rendering that needs no live kernel: curves as SVG and matplotlib figures (:mod:`.plot`), the runs table's rows
and cells (:mod:`.table`), every HTML fragment (:mod:`.html`) and the report files (:mod:`.export`). Every string
from the user's code or data is escaped here."""
