"""``%config StallMagics.keep_reruns = N`` sets the rerun engine's retention limit (issue 12, item 11), as
``keep_cells`` sets how many cells keep their models: the magic is a thin shell, the limit is the engine's."""

from __future__ import annotations

import pytest

from stallmagic.rerun import DEFAULT_KEEP_RERUNS, set_keep_reruns
from stallmagic.rerun.ledger import LEDGER


@pytest.fixture()
def ip():
    """IPython's test shell with the extension loaded; the limit is put back afterwards."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "stallmagic")
    previous = LEDGER.keep_reruns
    yield shell
    shell.run_line_magic("unload_ext", "stallmagic")
    shell.config.get("StallMagics", {}).pop("keep_reruns", None)  # %config is kept in the shell's config
    set_keep_reruns(previous)


def test_keep_reruns_is_a_configurable_limit_of_the_engine(ip):
    magics = ip.magics_manager.registry["StallMagics"]
    assert magics.keep_reruns == DEFAULT_KEEP_RERUNS == LEDGER.keep_reruns
    ip.run_line_magic("config", "StallMagics.keep_reruns = 2")
    assert magics.keep_reruns == 2 and LEDGER.keep_reruns == 2
    help_text = type(magics).class_get_trait_help(type(magics).keep_reruns)
    assert "most recently used reruns keep their models" in help_text


def test_a_limit_set_before_loading_is_kept():
    from IPython.testing.globalipapp import get_ipython

    previous = set_keep_reruns(7)
    shell = get_ipython()
    shell.run_line_magic("load_ext", "stallmagic")
    try:
        assert shell.magics_manager.registry["StallMagics"].keep_reruns == 7 == LEDGER.keep_reruns
    finally:
        shell.run_line_magic("unload_ext", "stallmagic")
        set_keep_reruns(previous)
