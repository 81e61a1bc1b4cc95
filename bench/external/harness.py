"""What every ported program shares: where its sources are, how it is scored, and the label mapping.

A case is one module of :mod:`cases` with a ``CASE`` (:class:`Case`) and a ``build(mirror, variant)`` function that
returns a :class:`Program`: the compiled Keras model and the keyword arguments of its ``fit`` call, exactly as the
authors wrote them (translated to Keras 3). ``variant`` is ``"buggy"`` or ``"correct"``. The harness adds one
epoch-level callback (:class:`Score`) that scores the model the same way for every program, reruns included, and
otherwise trains the program as written. See README.md for the rules.
"""

from __future__ import annotations

import hashlib
import io
import math
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

#: The authors' labels -> the cause codes that agree with them (README.md, fixed before the first run).
MAPPING: dict[str, tuple[str, ...]] = {
    "learning_rate": ("lr_too_high", "lr_too_low"),
    "activation": ("loss_mismatch", "vanishing_gradient", "exploding_gradient", "dying_relu"),
    "loss": ("loss_mismatch",),
    "optimizer": ("optimizer_choice", "lr_too_high", "lr_too_low"),
    "epoch": ("underfitting", "lr_too_low", "train_longer"),
    "batch_size": ("batch_size",),
    "initialization": ("vanishing_gradient", "exploding_gradient", "dying_relu"),
    "preprocessing": ("unscaled_inputs", "unscaled_targets", "data_quality", "distribution_shift"),
    "data_quality": ("data_quality", "data_leakage", "label_noise", "class_imbalance", "unshuffled_validation_split"),
    "more_data": ("insufficient_data",),
    "layers": ("underfitting", "overfitting", "loss_mismatch"),
    "vanishing_gradient": ("vanishing_gradient",),
    "exploding_gradient": ("exploding_gradient",),
    "dying_relu": ("dying_relu",),
    "oscillating_loss": ("lr_too_high", "batch_size"),
    "slow_convergence": ("lr_too_low", "optimizer_choice"),
}

#: DeepFD's Ground_Truth categories -> our label names.
DEEPFD_LABELS = {
    "Epoch": "epoch",
    "Learning rate": "learning_rate",
    "Activation": "activation",
    "Loss": "loss",
    "Batch size": "batch_size",
    "Optimizer": "optimizer",
    "Missing Preprocess": "preprocessing",
    "Wrong Preprocess": "preprocessing",
    "Layer Properties": "layers",
    "Missing/Redundant/Wrong Layers": "layers",
    "Model Type & Properties": "layers",
    "Add more training data": "more_data",
    "Initialization": "initialization",
}

TASKS = ("multiclass", "binary", "multilabel", "regression")
#: A program reproduces its fault when its best score is this far below the reference (or its loss became NaN).
MARGIN = 0.03
#: Rows scored at the end of each epoch, and rows the reference trains on.
SCORE_ROWS = 2000
REFERENCE_ROWS = 5000


class Skip(Exception):
    """The case cannot run here (its repository was not fetched, or its data are not in it)."""


# ---------------------------------------------------------------------- sources


class Mirror:
    """Fetched copies of public repositories under one folder: ``DIR/owner+name`` as a checkout, or a bare git
    directory at ``DIR/owner+name/repo`` (read with ``git show``). Nothing is downloaded."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root) if root else None
        self._cache = Path(tempfile.gettempdir()) / "stallmagic-external"

    def _locate(self, repo: str) -> tuple[str, Path]:
        if self.root is None:
            raise Skip("no --mirrors folder given")
        base = self.root / repo.replace("/", "+")
        if (base / "repo" / "HEAD").exists():
            return "git", base / "repo"
        if (base / "HEAD").exists() and (base / "objects").exists():
            return "git", base
        if base.is_dir():
            return "tree", base
        raise Skip(f"{repo} is not fetched under {self.root}")

    def available(self, repo: str) -> bool:
        try:
            self._locate(repo)
        except Skip:
            return False
        return True

    def read_bytes(self, repo: str, path: str) -> bytes:
        kind, where = self._locate(repo)
        if kind == "tree":
            file = where / path
            if not file.exists():
                raise Skip(f"{repo}: {path} is not in the fetched copy")
            return file.read_bytes()
        out = subprocess.run(
            ["git", "--git-dir", str(where), "show", f"HEAD:{path}"], capture_output=True, check=False
        )
        if out.returncode != 0:
            raise Skip(f"{repo}: {path} is not in the fetched copy (files over 4 MiB are not fetched)")
        return out.stdout

    def text(self, repo: str, path: str) -> str:
        return self.read_bytes(repo, path).decode("utf-8", errors="replace")

    def open(self, repo: str, path: str) -> io.BytesIO:
        return io.BytesIO(self.read_bytes(repo, path))

    def folder(self, repo: str, path: str) -> Path:
        """A local folder holding ``path`` of ``repo`` (extracted once into the temporary folder)."""
        kind, where = self._locate(repo)
        if kind == "tree":
            return where / path
        key = hashlib.sha1(f"{where}:{path}".encode()).hexdigest()[:16]
        target = self._cache / key
        done = target / ".complete"
        if not done.exists():
            target.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "--git-dir", str(where), "archive", "--format=tar", "HEAD", path],
                capture_output=True,
                check=False,
            )
            if archive.returncode != 0:
                raise Skip(f"{repo}: {path} is not in the fetched copy")
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(target, filter="data")
            done.touch()
        return target / path


# ---------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One ported program.

    Attributes:
        name: ``so_<post>``, ``gh_<project>`` or ``at_<case>``.
        repo: The repository its code and data come from (``owner/name``).
        path: Its folder in that repository.
        labels: The authors' labels, as keys of :data:`MAPPING`.
        summary: One sentence: what the program does and what its authors say is wrong.
        deviations: Every way the port differs from the program beyond Keras 3 names (rows, epochs, data).
        correct: Whether a correct version (a control) is ported too.
    """

    name: str
    repo: str
    path: str
    labels: tuple[str, ...]
    summary: str
    deviations: tuple[str, ...] = ()
    correct: bool = True

    def __post_init__(self) -> None:
        unknown = [label for label in self.labels if label not in MAPPING]
        if unknown:
            raise ValueError(f"{self.name}: unknown labels {unknown}; known: {sorted(MAPPING)}")

    @property
    def expected(self) -> tuple[str, ...]:
        """The cause codes that agree with the authors' labels."""
        out: dict[str, None] = {}
        for label in self.labels:
            out.update(dict.fromkeys(MAPPING[label]))
        return tuple(out)


@dataclass
class Program:
    """A built program, ready to train: ``model.fit(**fit)``.

    Attributes:
        model: The compiled Keras model.
        fit: The keyword arguments of the authors' ``fit`` call (``x``, ``y``, ``epochs``, ``batch_size``,
            ``validation_split`` or ``validation_data``, ...).
        task: One of :data:`TASKS`; how predictions are scored.
        rows: ``(x_train, y_train, x_val, y_val)`` as arrays when ``fit`` gets something else (a ``tf.data``
            pipeline, a generator); ``x_val``/``y_val`` may be ``None``. Default: read from ``fit``.
        logits: The output is logits (threshold 0 for one unit). Default: the compiled loss's ``from_logits``.
        truth: ``(y_train, y_val)``: the targets the program *meant*, when its fault corrupts the ones it gives
            ``fit`` (labels divided by 255): the program and the reference are scored against these. Default: the
            targets given to ``fit``.
    """

    model: Any
    fit: dict
    task: str
    rows: tuple | None = None
    logits: bool | None = None
    truth: tuple | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")

    def split(self) -> tuple[Any, Any, Any, Any]:
        """``(x_train, y_train, x_val, y_val)`` as Keras splits them (the last rows with ``validation_split``)."""
        xt, yt, xv, yv = self._split()
        if self.truth is not None:
            yt, yv = self.truth
        return xt, yt, xv, yv

    def _split(self) -> tuple[Any, Any, Any, Any]:
        if self.rows is not None:
            return self.rows
        x, y = self.fit.get("x"), self.fit.get("y")
        vd = self.fit.get("validation_data")
        if vd is not None:
            return x, y, vd[0], vd[1]
        frac = float(self.fit.get("validation_split") or 0.0)
        if frac:
            n = _n(x)
            cut = math.floor(n * (1.0 - frac))
            return _rows(x, slice(0, cut)), _rows(y, slice(0, cut)), _rows(x, slice(cut, n)), _rows(y, slice(cut, n))
        return x, y, None, None


def _n(x: Any) -> int:
    if isinstance(x, dict):
        return _n(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _n(x[0])
    return len(x)


def _rows(x: Any, rows: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _rows(v, rows) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_rows(v, rows) for v in x)
    return np.asarray(x)[rows]


def flat(x: Any) -> np.ndarray:
    """Every numeric input of a row flattened into one float64 vector: shape (n, d)."""
    parts = list(x.values()) if isinstance(x, dict) else list(x) if isinstance(x, (list, tuple)) else [x]
    cols = [np.asarray(p, dtype=np.float64).reshape(len(p), -1) for p in parts]
    return np.concatenate(cols, axis=1) if len(cols) > 1 else cols[0]


# ---------------------------------------------------------------------- scoring


def predictions_to_score(pred: np.ndarray, y: np.ndarray, task: str, *, logits: bool) -> float:
    """Accuracy (classification) or R² (regression) of raw model outputs ``pred`` against targets ``y``."""
    pred = np.asarray(pred, dtype=np.float64)
    y = np.asarray(y)
    n = len(y)
    if not np.isfinite(pred).all():
        return math.nan
    if task == "regression":
        from sklearn.metrics import r2_score

        return float(r2_score(y.reshape(n, -1).astype(float), pred.reshape(n, -1)))
    cut = 0.0 if logits else 0.5
    if task == "multilabel":
        return float(np.mean((pred.reshape(n, -1) > cut) == (y.reshape(n, -1) > 0.5)))
    truth = class_index(y)
    p = pred.reshape(n, -1)
    if p.shape[1] > 1:
        guess = p.argmax(axis=1)
    elif task == "binary":
        guess = (p[:, 0] > cut).astype(np.int64)
    else:  # one unit for several classes: the nearest class
        guess = np.clip(np.round(p[:, 0]), truth.min(), truth.max()).astype(np.int64)
    return float(np.mean(guess == truth))


def class_index(y: np.ndarray) -> np.ndarray:
    """Each row's class: the argmax of one-hot rows, else the value (rounded)."""
    y = np.asarray(y)
    if y.ndim > 1 and y.reshape(len(y), -1).shape[1] > 1:
        return y.reshape(len(y), -1).argmax(axis=1)
    return np.round(y.reshape(len(y)).astype(np.float64)).astype(np.int64)


def _score_rows(program: Program) -> tuple[Any, np.ndarray]:
    """The rows the program is scored on: validation if it has any, else training; at most SCORE_ROWS."""
    xt, yt, xv, yv = program.split()
    x, y = (xv, yv) if xv is not None else (xt, yt)
    n = _n(x)
    if n > SCORE_ROWS:
        idx = np.sort(np.random.default_rng(0).choice(n, SCORE_ROWS, replace=False))
        x, y = _rows(x, idx), np.asarray(y)[idx]
    return x, np.asarray(y)


def make_score_callback(program: Program) -> Any:
    """A Keras callback that scores the model on the program's validation (else training) rows after every epoch.

    Every instance appends its scores to ``Score.history`` under its own key, so a rerun's fresh copy (the rerun
    engine rebuilds user callbacks from their ``__init__`` arguments) is scored the same way and can be read back.
    """
    import keras

    x, y = _score_rows(program)
    logits = program.logits
    if logits is None:
        loss = getattr(program.model, "loss", None)
        logits = bool(getattr(loss, "from_logits", False) or (getattr(loss, "get_config", None) and
                      loss.get_config().get("from_logits")))

    class Score(keras.callbacks.Callback):
        history: ClassVar[list[list[float]]] = []

        def __init__(self, x: Any, y: Any, task: str, logits: bool) -> None:
            super().__init__()
            self.x, self.y, self.task, self.logits = x, y, task, logits
            self.scores: list[float] = []
            Score.history.append(self.scores)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            outs = []
            for start in range(0, _n(self.x), 500):
                out = self.model(_rows(self.x, slice(start, start + 500)), training=False)
                if isinstance(out, (list, tuple)):
                    out = out[0]
                elif isinstance(out, dict):
                    out = next(iter(out.values()))
                outs.append(keras.ops.convert_to_numpy(out))
            self.scores.append(predictions_to_score(np.concatenate(outs), self.y, self.task, logits=self.logits))

    return Score(x, y, program.task, logits)


def reference(program: Program, seed: int = 0) -> tuple[float, str]:
    """The best scikit-learn score on the program's rows (see README.md), and which model reached it."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xt, yt, xv, yv = program.split()
    rng = np.random.default_rng(seed)
    xt, yt = flat(xt), np.asarray(yt)
    if len(yt) > REFERENCE_ROWS:
        idx = np.sort(rng.choice(len(yt), REFERENCE_ROWS, replace=False))
        xt, yt = xt[idx], yt[idx]
    if xv is not None:
        xv, yv = flat(xv), np.asarray(yv)
        if len(yv) > SCORE_ROWS:
            idx = np.sort(np.random.default_rng(0).choice(len(yv), SCORE_ROWS, replace=False))
            xv, yv = xv[idx], yv[idx]
    good = np.isfinite(xt).all(axis=1)
    xt, yt = xt[good], yt[good]
    if xv is not None:
        xv = np.where(np.isfinite(xv), xv, 0.0)
    task = program.task
    n = len(yt)
    k = int(min(15, max(3, round(math.sqrt(n) / 3))))

    def steps(model: Any) -> Any:
        pre = [StandardScaler()]
        if xt.shape[1] > 256:
            pre.append(PCA(64, random_state=seed))
        return make_pipeline(*pre, model)

    if task == "regression":
        target = yt.reshape(n, -1).astype(float)
        models = [("ridge", Ridge(1.0)), ("knn", KNeighborsRegressor(k))]
        if target.shape[1] == 1:
            models.append(("gradient boosting", HistGradientBoostingRegressor(max_iter=200, random_state=seed)))
            target = target[:, 0]
    elif task == "multilabel":
        target = (yt.reshape(n, -1) > 0.5).astype(int)
        models = [
            ("logistic", MultiOutputClassifier(LogisticRegression(max_iter=1000))),
            ("knn", KNeighborsClassifier(k)),
            ("gradient boosting", MultiOutputClassifier(HistGradientBoostingClassifier(max_iter=100))),
        ]
    else:
        target = class_index(yt)
        models = [("logistic", LogisticRegression(max_iter=1000)), ("knn", KNeighborsClassifier(k))]
        if len(np.unique(target)) <= 20:  # boosting fits one tree per class and round: too slow for many classes
            models.append(("gradient boosting", HistGradientBoostingClassifier(max_iter=200, random_state=seed)))

    def score(pred: np.ndarray, truth: np.ndarray) -> float:
        if task == "regression":
            from sklearn.metrics import r2_score

            return float(r2_score(truth.reshape(len(truth), -1).astype(float), pred.reshape(len(truth), -1)))
        if task == "multilabel":
            return float(np.mean(pred.reshape(len(truth), -1) == (truth.reshape(len(truth), -1) > 0.5)))
        return float(np.mean(pred == class_index(truth)))

    best, name = -math.inf, "none"
    for label, model in models:
        try:
            if xv is not None:
                fitted = steps(model).fit(xt, target)
                value = score(fitted.predict(xv), yv)
            else:
                folds = (
                    StratifiedKFold(3, shuffle=True, random_state=seed)
                    if task in ("multiclass", "binary") and np.bincount(target).min() >= 3
                    else KFold(3, shuffle=True, random_state=seed)
                )
                value = score(cross_val_predict(steps(model), xt, target, cv=folds), yt)
        except Exception:  # a reference model that cannot fit these rows: the others decide
            continue
        if value > best:
            best, name = value, label
    return best, name


# ---------------------------------------------------------------------- registry


def load_cases() -> dict[str, tuple[Case, Callable[[Mirror, str], Program]]]:
    """Every case module in :mod:`cases`: name -> (Case, build)."""
    import importlib
    import pkgutil

    from . import cases

    found = {}
    for info in sorted(pkgutil.iter_modules(cases.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{cases.__name__}.{info.name}")
        case = module.CASE
        found[case.name] = (case, module.build)
    return found


def agree(codes: Sequence[str], expected: Sequence[str]) -> bool:
    return any(code in expected for code in codes)
