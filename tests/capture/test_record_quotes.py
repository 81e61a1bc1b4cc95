"""Records quote user objects without calling their code unguarded (issue 12, beyond the list): a display listener
whose exception cannot print itself, or an object whose ``repr`` raises, must not break the user's fit or a report."""

from __future__ import annotations

from stallmagic.record import Session, jsonable


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no words")


class NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_listener_whose_error_cannot_print_itself_is_recorded_and_the_fit_goes_on():
    session = Session()

    def broken(event, run):
        raise Unprintable()

    session.listeners.append(broken)
    session.notify("epoch", None)  # before the fix: RuntimeError("no words") escaped into the user's fit
    assert session.listener_errors == ["Unprintable: <Unprintable object>"]


def test_an_object_whose_repr_raises_is_quoted_by_its_type_in_json():
    assert jsonable({"callback": NoRepr()}) == {"callback": "<NoRepr object>"}
