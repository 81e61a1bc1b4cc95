"""Reruns keep the user's file-writing callbacks (TensorBoard, CSVLogger, ModelCheckpoint, BackupAndRestore), each
writing next to the original's path, never over it: a real fit with all four, then two reruns."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.remedies import Remedy
from stallmagic.rerun.file_callbacks import redirected, run_tag, tagged_path


def _files(root) -> dict:
    """Every file under ``root``: its path relative to root -> its bytes."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


def test_reruns_write_their_logs_and_checkpoints_next_to_the_users(tmp_path, digits, seed):
    x, y = digits
    x, y = x[:400], y[:400]
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    board = keras.callbacks.TensorBoard(str(tmp_path / "logs" / "fit"))
    csv = keras.callbacks.CSVLogger(str(tmp_path / "history.csv"))
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt-{epoch:02d}.weights.h5"), save_weights_only=True
    )
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with stallmagic.capture(label="orig") as session:
        model.fit(x, y, validation_split=0.25, epochs=2, batch_size=50, verbose=0,
                  callbacks=[board, csv, checkpoint, backup])  # fmt: skip
    run = session.runs[0]
    original = _files(tmp_path)
    held = {id(cb): dict(vars(cb)) for cb in (board, csv, checkpoint, backup)}

    first = run.rerun(Remedy("early_stopping", {"patience": 5}))
    second = run.rerun(Remedy("early_stopping", {"patience": 5}))
    assert first.end == second.end == "completed"

    after = _files(tmp_path)
    assert {k: after[k] for k in original} == original  # the user's files untouched
    new = sorted(set(after) - set(original))
    for tag in (run_tag(first.label, "orig"), run_tag(second.label, "orig")):
        assert tag.startswith("early-stopping")
        assert os.path.join("logs", f"fit-{tag}", "train") in {os.path.dirname(p) for p in new}
        assert f"history-{tag}.csv" in new
        assert {f"ckpt-01-{tag}.weights.h5", f"ckpt-02-{tag}.weights.h5"} <= set(new)
    assert run_tag(first.label, "orig") != run_tag(second.label, "orig")
    rows = after[f"history-{run_tag(first.label, 'orig')}.csv"].decode().strip().splitlines()
    assert rows[0].startswith("epoch") and len(rows) == 1 + len(first.logs["loss"])
    for cb in (board, csv, checkpoint, backup):  # the user's objects keep their paths and state
        assert vars(cb).keys() == held[id(cb)].keys()
        assert all(vars(cb)[k] is v for k, v in held[id(cb)].items())
    notes = " ".join(first.extras["rerun"]["notes"])
    for name in ("TensorBoard", "CSVLogger", "ModelCheckpoint", "BackupAndRestore"):
        assert f"Your {name} wrote to" in notes


@pytest.mark.parametrize(
    ("path", "directory", "expected"),
    [
        ("logs/fit", True, "logs/fit-t"),
        ("logs/fit/", True, "logs/fit-t"),
        ("h.csv", False, "h-t.csv"),
        ("log", False, "log-t"),
        ("c-{epoch:02d}-{val_loss:.2f}.keras", False, "c-{epoch:02d}-{val_loss:.2f}-t.keras"),
        ("w.weights.h5", False, "w-t.weights.h5"),
    ],
)
def test_tagged_paths_keep_extensions_and_format_fields(path, directory, expected):
    assert tagged_path(path, "t", directory=directory) == expected


def test_tagged_paths_never_reuse_an_existing_path(tmp_path):
    (tmp_path / "h-t.csv").write_text("earlier session")
    (tmp_path / "h-t-2.csv").write_text("earlier session")
    assert tagged_path(str(tmp_path / "h.csv"), "t", directory=False) == str(tmp_path / "h-t-3.csv")


def test_run_tags_are_safe_file_names():
    assert run_tag("orig + Early stopping #2", "orig") == "early-stopping-2"
    assert run_tag("orig + lr=0.01 + {x}/../y", "orig") == "lr=0.01-x-..-y"
    assert run_tag("orig (rerun)", "orig") == "rerun"
    assert run_tag("orig + ///", "orig") == "rerun"
    assert len(run_tag("orig + " + "a" * 200, "orig")) <= 48


def test_a_file_callback_whose_path_cannot_be_read_is_left_out_with_a_reason(tmp_path):
    csv = keras.callbacks.CSVLogger(str(tmp_path / "h.csv"))
    csv.filename = None  # a subclass that keeps its path elsewhere
    moved, note = redirected(csv, "t")
    assert moved is None and "not run again" in note and "CSVLogger" in note
    np.testing.assert_equal(csv.filename, None)
