"""Loading and unloading the extension: the shell's own registry of magics holds the one StallMagics instance, so
the magic module keeps no state of its own. IPython's real test shell; no training (see ``test_magic``)."""

from __future__ import annotations

import pytest

from stallmagic.notebook import magic
from stallmagic.notebook.magic import StallMagics, load_ipython_extension, unload_ipython_extension


@pytest.fixture()
def shell():
    """IPython's test shell without the extension, as each test finds and leaves it."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    was_loaded = isinstance(ip.magics_manager.registry.get("StallMagics"), StallMagics)
    unload_ipython_extension(ip)
    yield ip
    unload_ipython_extension(ip)
    if was_loaded:
        load_ipython_extension(ip)


def stall_magics(ip) -> list[StallMagics]:
    return [c for c in ip.configurables if isinstance(c, StallMagics)]


def test_loading_twice_keeps_the_one_instance_the_shell_holds(shell):
    load_ipython_extension(shell)
    first = shell.magics_manager.registry["StallMagics"]
    load_ipython_extension(shell)
    assert shell.magics_manager.registry["StallMagics"] is first
    assert stall_magics(shell) == [first]
    assert shell.magics_manager.magics["cell"]["diagnose_fit"].__self__ is first


def test_unloading_removes_what_loading_added_and_twice_is_harmless(shell):
    load_ipython_extension(shell)
    unload_ipython_extension(shell)
    unload_ipython_extension(shell)
    assert "StallMagics" not in shell.magics_manager.registry
    assert "diagnose_fit" not in shell.magics_manager.magics["cell"]
    assert "stall" not in shell.magics_manager.magics["line"]
    assert stall_magics(shell) == []
    load_ipython_extension(shell)  # and it loads again afresh
    assert len(stall_magics(shell)) == 1


def test_the_magic_module_keeps_no_magics_of_its_own(shell):
    load_ipython_extension(shell)
    held = [
        name
        for name, value in vars(magic).items()
        if not name.startswith("__") and isinstance(value, (dict, list, set, StallMagics))
    ]
    assert held == []
