"""Callbacks that write files run again in a rerun, on a path of their own next to the user's.

A user who logs to TensorBoard wants the reruns beside the original (``logs/fit`` and ``logs/fit-early-stopping``
under one ``tensorboard --logdir logs``); a CSV log or a checkpoint of the rerun is as useful as the original's.
What must never happen is a rerun overwriting the user's files, or a ``BackupAndRestore`` rerun resuming from the
user's backup. So a file-writing callback is copied and every path it holds is moved to a sibling path named after
the rerun: the path argument (:data:`PATH_ATTRIBUTES`) and every string attribute derived from it (TensorBoard's
``train``/``validation`` directories, BackupAndRestore's weight files), found by their common prefix rather than by
name, so a Keras release that renames a private attribute still gets the new path.

A callback whose path cannot be read (a subclass that keeps it elsewhere) or cannot be copied is left out, as
before, and the rerun's notes say so.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

#: The callbacks that write files, and the attribute holding the path their ``__init__`` got. A directory when the
#: name ends in ``dir``; else a file whose extension stays last (``.weights.h5`` counts as one extension, as
#: ``ModelCheckpoint`` requires it).
PATH_ATTRIBUTES = {
    "ModelCheckpoint": "filepath",
    "CSVLogger": "filename",
    "TensorBoard": "log_dir",
    "BackupAndRestore": "backup_dir",
}
#: Extensions Keras reads as a whole.
_COMPOUND_EXTENSIONS = (".weights.h5",)
#: The longest tag added to a path.
TAG_LIMIT = 48


def writes_files(callback: Any) -> bool:
    """Whether ``callback`` is one of Keras's file-writing callbacks (or a subclass of one)."""
    return any(cls.__name__ in PATH_ATTRIBUTES and cls.__module__.startswith("keras") for cls in type(callback).__mro__)


def run_tag(label: str, parent_label: str) -> str:
    """A file-name-safe tag for a rerun: its label without the parent's, e.g. ``"cell 3 + Early stopping #2"`` ->
    ``"early-stopping-2"``. Letters, digits, ``.``, ``=`` and ``-`` only (no braces, which ModelCheckpoint formats)."""
    text = label[len(parent_label):] if label.startswith(parent_label) else label
    tag = re.sub(r"[^a-z0-9.=]+", "-", text.lower()).strip("-.")
    return tag[:TAG_LIMIT].rstrip("-.") or "rerun"


def tagged_path(path: str, tag: str, *, directory: bool) -> str:
    """``path`` with ``-<tag>`` added to its last component (before the file's extension), numbered ``-2``, ``-3``
    while that path exists already, so an earlier session's rerun is not overwritten either."""
    trimmed = path.rstrip("/\\") or path
    if directory:
        stem, ext = trimmed, ""
    else:
        ext = next((e for e in _COMPOUND_EXTENSIONS if trimmed.endswith(e)), None)
        if ext is None:
            stem, ext = os.path.splitext(trimmed)
        else:
            stem = trimmed[: -len(ext)]
    candidate, n = f"{stem}-{tag}{ext}", 2
    while os.path.exists(candidate):
        candidate, n = f"{stem}-{tag}-{n}{ext}", n + 1
    return candidate


def redirected(callback: Any, tag: str) -> tuple[Any | None, str]:
    """A copy of ``callback`` writing under a path tagged with ``tag``, and a note for the rerun's record; ``None``
    and the reason when it cannot be moved."""
    name = type(callback).__name__
    attribute = next(
        (PATH_ATTRIBUTES[c.__name__] for c in type(callback).__mro__ if c.__name__ in PATH_ATTRIBUTES), None
    )
    old = getattr(callback, attribute, None) if attribute else None
    if not isinstance(old, str) or not old:
        return None, f"Your {name} was not run again (its path could not be read), so it writes no files for the rerun."
    try:
        fresh = copy.copy(callback)
        vars(fresh).update({k: _copied(v) for k, v in vars(callback).items() if k not in ("model", "_model")})
    except Exception:
        return None, f"Your {name} was not run again (it could not be copied), so the rerun does not touch its files."
    new = tagged_path(old, tag, directory=attribute.endswith("dir"))
    prefix = old.rstrip("/\\") or old
    for key, value in list(vars(fresh).items()):
        if isinstance(value, str) and value.startswith(prefix) and value[len(prefix):][:1] in ("", "/", "\\"):
            setattr(fresh, key, new + value[len(prefix):])  # the path itself, or one derived from it
    setattr(fresh, attribute, new)
    return fresh, f"Your {name} wrote to {new} (next to {old}, which the rerun left alone)."


def _copied(value: Any) -> Any:
    """A deep copy of one attribute, or the value itself when it holds something that cannot be copied (an open or
    closed file, TensorBoard's summary writers): Keras's file callbacks replace those, never change them in place,
    when training begins (``set_model`` makes new writers, ``on_train_begin`` opens the file anew)."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return value
