"""Scoped interception of ``keras.Model.fit``: every fit made inside ``capture()`` becomes a Run.

``capture()`` replaces ``keras.Model.fit`` (the class every Sequential, Functional, subclassed and ``tf.keras``
model inherits it from) with a thin wrapper for as long as at least one ``capture()`` block is open, and puts
the original back when the last one closes, whatever ended it. The wrapper adds one epoch-level callback to
the call and otherwise passes the user's arguments through untouched, so the fit returns the same History,
runs the same callbacks and raises the same exceptions (the same objects); it carries the wrapped ``fit``'s
name, module and docstring, so messages and tracebacks read as they do without it.

The patch and the open blocks belong to one object, :data:`INTERCEPTOR` (a :class:`FitInterceptor`), the only
state of this module; :func:`capture`, :func:`is_patched` and :func:`original_fit` are its entry points.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from .._internal.call_site import calling_frames
from .._internal.keras_private import user_random_seed
from .._internal.text import safe_repr, safe_str
from ..record import ErrorRecord, Run, Session


def _keras_model_class() -> type:
    import keras

    return keras.Model


class FitInterceptor:
    """The owner of the patch on ``keras.Model.fit`` and of the open ``capture()`` blocks.

    ``keras.Model.fit`` is one class attribute, shared by every model in every thread, so what patches it is
    process-wide too: there is one interceptor, :data:`INTERCEPTOR`, made when this module is imported and kept for
    the life of the process. It holds the patch only while a block is open: installed when the first block opens,
    removed when the last one closes (blocks may close in any order), and what was there before goes back,
    including a ``fit`` the user had set on ``keras.Model`` themselves, unless the user replaced the wrapper with a
    ``fit`` of their own while a block was open: theirs then stays. Its lock guards the blocks and the patch;
    the models whose fit is running under the wrapper are kept per thread, so a fit that re-enters itself on the
    same model (a subclass calling ``super().fit``) is one run, while a fit in another thread is a run of its own.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._blocks: list[tuple[Session, dict]] = []  # open capture() blocks, outermost first: (session, run attrs)
        self._patch: dict[str, Any] = {}  # {"cls", "original", "own", "wrapper", "signature"} while installed
        self._active = threading.local()  # .ids: models whose fit is running under the wrapper in this thread

    def original_fit(self) -> Any:
        """The unpatched ``fit`` (what ``keras.Model.fit`` is when no capture is open)."""
        with self._lock:
            if self._patch:
                return self._patch["original"]
        return _keras_model_class().fit

    def is_patched(self) -> bool:
        """Whether ``keras.Model.fit`` is currently stallmagic's wrapper."""
        with self._lock:
            return bool(self._patch)

    def open_block(self, session: Session, run_attrs: dict) -> tuple[Session, dict]:
        """Open a block that records into ``session`` (patching ``fit`` if it is the first); returns its handle."""
        block = (session, dict(run_attrs))
        with self._lock:
            if not self._blocks:
                self._install()
            self._blocks.append(block)
        return block

    def close_block(self, block: tuple[Session, dict]) -> None:
        """Close ``block`` (by identity; closing it twice is harmless), and remove the patch if it was the last."""
        with self._lock:
            for i, open_block in enumerate(self._blocks):
                if open_block is block:
                    del self._blocks[i]
                    break
            if not self._blocks and self._patch:
                self._uninstall()

    def _install(self) -> None:
        cls = _keras_model_class()
        own = cls.__dict__.get("fit")  # None: fit is inherited from the backend trainer
        original = cls.fit
        interceptor = self

        @functools.wraps(original)  # Keras's (or the user's) name, module, qualname and docstring: see the module doc
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return interceptor._captured_fit(original, self, args, kwargs)

        fit._stallmagic = True  # type: ignore[attr-defined]
        self._patch.update(cls=cls, original=original, own=own, wrapper=fit, signature=_keras_fit_signature(cls))
        cls.fit = fit

    def _uninstall(self) -> None:
        """Put back what ``keras.Model`` held before the first block opened, unless the user replaced our wrapper
        with a ``fit`` of their own while a block was open (``keras.Model.fit = my_fit`` in the cell): theirs stays,
        as it would without stallmagic."""
        cls, own, wrapper = self._patch["cls"], self._patch["own"], self._patch["wrapper"]
        self._patch.clear()
        if cls.__dict__.get("fit") is not wrapper:  # the user's own assignment (or deletion) since: leave it
            return
        if own is None:
            delattr(cls, "fit")
        else:
            cls.fit = own

    def _running_models(self) -> set[int]:
        ids = getattr(self._active, "ids", None)
        if ids is None:
            ids = self._active.ids = set()
        return ids

    def _keras_signature(self) -> inspect.Signature | None:
        with self._lock:
            return self._patch.get("signature")

    def _captured_fit(self, original: Any, model: Any, args: tuple, kwargs: dict) -> Any:
        """One ``fit`` call through the wrapper: a Run in every open block's session, or the plain call.

        The call's arguments are read through Keras's own ``fit`` signature (what the run records), but ``original``
        is called with the user's own ``args`` and ``kwargs``, with only ``callbacks`` extended by the recorder where
        the user put it: a ``fit`` of the user's own (``def fit(self, *a, **k)``, without ``functools.wraps``) then
        gets the call it was written for. Whatever stallmagic cannot record (arguments Keras would refuse, values its
        snapshot cannot read, a ``fit`` that takes no ``callbacks``) runs as the plain call, unrecorded, so the user
        sees Keras's own result or error.
        """
        __tracebackhide__ = True
        with self._lock:
            blocks = list(self._blocks)
        sessions = _distinct([s for s, _ in blocks])  # a session opened twice (a rerun in its own cell) records once
        running = self._running_models()
        if not sessions or id(model) in running:  # a fit re-entered on the same model is the same run
            return original(model, *args, **kwargs)
        signature = self._keras_signature() or inspect.signature(original)
        try:
            bound = signature.bind(model, *args, **kwargs)
        except TypeError:
            return original(model, *args, **kwargs)  # let Keras word the argument error

        user_callbacks = bound.arguments.get("callbacks")
        holder = getattr(user_callbacks, "callbacks", None)  # a keras CallbackList: the recorder joins it
        slot = None if holder is not None else _callbacks_slot(signature, original, model, args, kwargs)
        if holder is None and slot is None:  # a fit of the user's own that takes no callbacks: nothing can record
            return original(model, *args, **kwargs)
        try:
            run = _start_run(sessions, model, bound, args, kwargs, blocks[-1][1])
        except Exception:  # an argument the snapshot cannot read (epochs="3"): Keras words its own error, if any
            return original(model, *args, **kwargs)
        recorder = _make_recorder(run, sessions)
        call_args, call_kwargs = args, kwargs
        if holder is not None:
            holder.append(recorder)
            recorder.set_model(model)
            recorder.set_params(getattr(user_callbacks, "params", {}) or {})
        else:
            call_args, call_kwargs = _put_callbacks(slot, args, kwargs, _plus(user_callbacks, recorder))

        running.add(id(model))
        start = time.perf_counter()
        try:
            history = original(model, *call_args, **call_kwargs)
        except KeyboardInterrupt:
            _finish(run, model, start, "interrupted", sessions, error=ErrorRecord("KeyboardInterrupt", ""))
            raise
        except BaseException as exc:
            _finish(run, model, start, "error", sessions, error=_error_record(exc))
            raise
        finally:
            running.discard(id(model))
            if holder is not None and recorder in holder:
                holder.remove(recorder)
        _finish(run, model, start, _end_reason(run, model), sessions)
        return history


def _keras_fit_signature(cls: type) -> inspect.Signature | None:
    """The signature of Keras's own ``fit`` (the first ``fit`` up ``cls``'s MRO defined in a ``keras`` module).

    A call is read through it, not through whatever ``keras.Model.fit`` is now: a ``fit`` the user set on
    ``keras.Model`` themselves may take ``(self, *args, **kwargs)``, and binding to that put every argument into
    ``args`` and ``kwargs``, so the run recorded none of them and a recorder added as ``callbacks=`` was dropped.
    ``None`` when no Keras ``fit`` is found (the caller then reads the call through the called function).
    """
    for klass in cls.__mro__:
        fit = klass.__dict__.get("fit")
        module = getattr(fit, "__module__", None) or ""
        if fit is not None and (module == "keras" or module.startswith("keras.")):
            try:
                return inspect.signature(fit)
            except (TypeError, ValueError):
                return None
    return None


def _callbacks_slot(
    signature: inspect.Signature, original: Any, model: Any, args: tuple, kwargs: dict
) -> str | int | None:
    """Where the recorder goes in the user's own call: ``"callbacks"`` (the keyword, given or added), the index in
    ``args`` where the user passed callbacks by position, or ``None`` when the called ``fit`` (a user's own) would
    not accept callbacks there: that fit is then left to run unrecorded rather than made to fail."""
    names = list(signature.parameters)[1:]  # after self
    slot: str | int = "callbacks"
    if "callbacks" not in kwargs and "callbacks" in names and names.index("callbacks") < len(args):
        slot = names.index("callbacks")
    try:
        called = inspect.signature(original)
    except (TypeError, ValueError):  # a callable inspect cannot read: trust it takes Keras's arguments
        return slot
    trial_args, trial_kwargs = _put_callbacks(slot, args, kwargs, [])
    try:
        called.bind(model, *trial_args, **trial_kwargs)
    except TypeError:
        return None
    return slot


def _put_callbacks(slot: str | int, args: tuple, kwargs: dict, callbacks: list) -> tuple[tuple, dict]:
    """``(args, kwargs)`` of the user's call with ``callbacks`` in ``slot`` (see :func:`_callbacks_slot`)."""
    if isinstance(slot, int):
        return (*args[:slot], callbacks, *args[slot + 1 :]), kwargs
    return args, {**kwargs, "callbacks": callbacks}


def _plus(user_callbacks: Any, recorder: Any) -> list:
    """The user's callbacks and the recorder, as one list: a list or tuple is spread, anything else (a single
    callback, which Keras accepts and flattens, or a nested list) is kept as one item for Keras to flatten."""
    if user_callbacks is None:
        return [recorder]
    if isinstance(user_callbacks, (list, tuple)):
        return [*user_callbacks, recorder]
    return [user_callbacks, recorder]


#: Longest exception message kept in a Run's ErrorRecord or quoted in one of stallmagic's lines (the full text is in
#: the traceback the user sees); safe_str's default, 200 characters, would cut Keras's and stallmagic's own messages.
ERROR_MESSAGE_LIMIT = 1000


#: The process's one interceptor (see :class:`FitInterceptor` for why there is exactly one, and its lifetime).
INTERCEPTOR = FitInterceptor()


def original_fit() -> Any:
    """The unpatched ``fit`` (what ``keras.Model.fit`` is when no capture is open)."""
    return INTERCEPTOR.original_fit()


def is_patched() -> bool:
    """Whether ``keras.Model.fit`` is currently stallmagic's wrapper."""
    return INTERCEPTOR.is_patched()


@contextlib.contextmanager
def capture(
    label: str | None = None,
    *,
    snapshot_weights: bool = True,
    session: Session | None = None,
    run_attrs: dict | None = None,
) -> Iterator[Session]:
    """Record every Keras ``fit`` call made while the block runs.

    Args:
        label: A name for the session's runs (``label``, ``label #2``, ...); default ``run 1``, ``run 2``.
        snapshot_weights: Keep a copy of the model's weights at the start of each fit (default ``True``);
            reruns need it. Turn it off for models too large to hold twice in memory.
        session: Record into this existing Session instead of a new one (reruns and the magic use it to keep
            every run of a cell together). ``label`` and ``snapshot_weights`` are then ignored.
        run_attrs: Attributes set on every Run this block starts, before any listener sees it (the rerun engine
            names its run and links it to its parent and remedy this way, so a live panel shows them from the
            first epoch). Keys: ``label``, ``parent``, ``remedy``.

    Yields:
        The :class:`~stallmagic.record.Session`; ``session.runs`` grows by one Run per fit, in call order,
        and keeps partial runs of fits that raised.

    Example::

        with stallmagic.capture() as session:
            model.fit(x, y, validation_split=0.2, epochs=10)
        print(session.runs[-1].summary())

    Blocks nest: a fit inside an inner block is recorded in every open block. ``keras.Model.fit`` is
    restored when the outermost block exits, by any exception or KeyboardInterrupt too.
    """
    if label is not None and not isinstance(label, str):
        raise TypeError(f"The 'label' argument of capture() must be a str or None. Got {type(label).__name__} instead.")
    if session is not None and not isinstance(session, Session):
        raise TypeError(
            f"The 'session' argument of capture() must be a stallmagic Session or None. Got {type(session).__name__} "
            "instead."
        )
    if run_attrs is not None and not isinstance(run_attrs, Mapping):
        raise TypeError(
            f"The 'run_attrs' argument of capture() must be a dict or None. Got {type(run_attrs).__name__} instead."
        )
    unknown = set(run_attrs or {}) - {"label", "parent", "remedy"}
    if unknown:  # quoted one by one: keys of mixed types cannot be sorted, and a key's repr may raise
        got = ", ".join(sorted(safe_repr(key) for key in unknown))
        raise ValueError(f"run_attrs accepts 'label', 'parent' and 'remedy'. Got {got} instead.")
    if session is None:
        session = Session(label=label, snapshot_weights=snapshot_weights)
    block = INTERCEPTOR.open_block(session, run_attrs or {})
    try:
        yield session
    finally:
        INTERCEPTOR.close_block(block)


def _distinct(sessions: list[Session]) -> list[Session]:
    out: list[Session] = []
    for s in sessions:
        if not any(s is seen for seen in out):
            out.append(s)
    return out


def _start_run(
    sessions: list[Session], model: Any, bound: inspect.BoundArguments, args: tuple, kwargs: dict, attrs: dict
) -> Run:
    from .devices import fit_distribution
    from .snapshot import snapshot_fit

    full = bound.signature.bind(*bound.args, **bound.kwargs)
    full.apply_defaults()
    fit_record, refs = snapshot_fit(full.arguments)
    inner = sessions[-1]
    run = Run(index=len(inner.runs), label=inner.new_label(inner.label), fit=fit_record)
    run.data = refs
    run.keras_model = model
    run.fit_call = {"args": args, "kwargs": dict(kwargs)}
    run.distribution, fit_record.distribution, fit_record.replicas, fit_record.workers = fit_distribution(model)
    run.extras["call_sites"] = calling_frames()  # where the user's code called fit: what "Keep this fix" edits
    run.started_at = time.time()
    seed = user_random_seed()
    if seed is not None:
        run.extras["seed"] = seed
    for session in sessions:
        session.runs.append(run)
    run.session = inner
    for name, value in attrs.items():
        setattr(run, name, value)
    return run


def _make_recorder(run: Run, sessions: list[Session]) -> Any:
    from .recorder import Recorder

    listening = [s for s in sessions if s.listeners]

    def notify(event: str, r: Run) -> None:
        for s in listening:
            s.notify(event, r)

    snapshot = all(s.snapshot_weights for s in sessions)
    return Recorder(run, notify if listening else None, snapshot_weights=snapshot)


def _error_record(exc: BaseException) -> ErrorRecord:
    """What a run records of the exception that ended its fit: the exception's own object is never touched beyond
    a guarded ``str()`` (:func:`~stallmagic._internal.text.safe_str`: an ``__str__`` that raises gives the class
    name), so recording it can neither replace the user's exception nor leave the run ``running``."""
    return ErrorRecord(type(exc).__name__, safe_str(exc, limit=ERROR_MESSAGE_LIMIT))


def _end_reason(run: Run, model: Any) -> str:
    loss = run.logs.get("loss", [])
    if loss and not math.isfinite(loss[-1]):
        return "nan"
    if run.epochs_done < run.fit.epochs_asked and getattr(model, "stop_training", False):
        return "early_stopped"
    return "completed"


def _finish(
    run: Run, model: Any, start: float, end: str, sessions: list[Session], error: ErrorRecord | None = None
) -> None:
    run.wall_time = time.perf_counter() - start
    run.end = end
    run.error = error
    if run.initial_weights is not None:  # weights are kept: keep where the fit ended too, for restore()
        try:
            run.final_weights = model.get_weights()
        except Exception:  # a model broken by the error that ended the fit
            run.final_weights = None
    if run.model is None:  # the fit failed before Keras built the model: snapshot what there is
        try:
            from .snapshot import snapshot_model

            run.model = snapshot_model(model)
        except Exception:
            run.model = None
    for session in sessions:
        if session.listeners:
            session.notify("end", run)
