"""The specs: one small :class:`~stallmagic.remedies.remedy.Spec` per remedy code, a module per family.

Each spec does four jobs for its code: it says in one sentence what the change does and why it helps
(``describe``), writes the code a user keeps (``as_code``), changes a rerun's :class:`~stallmagic.rerun.plan.Plan`
(``apply``), and writes itself into a cell (``rewrite``, through
:class:`~stallmagic.remedies.source.CellEditor`). It also says from the run's records alone why it does not apply
(``unavailable``; pure, so :func:`~stallmagic.remedies.suggest` runs without Keras).

The families, in catalogue order (the order of :data:`~stallmagic.remedies.CODES`):

* :mod:`.fit`: arguments of ``fit`` (class weights, the monitor callbacks, batch size, epochs);
* :mod:`.optimizer`: the optimizer ``compile`` receives (learning rate, optimizer class, clipping);
* :mod:`.model`: the model's layers and loss (L2, dropout, batch norm, initialization, width, loss/output);
* :mod:`.data`: the training and validation arrays, always on copies (normalize, split, drop, impute, dedupe);
* :mod:`.advice`: recommendations with evidence and no button.

Shared pieces: :mod:`.context` (what words and code know about a run), :mod:`.keras_code` (writing Keras calls as
text) and :mod:`.availability` (why a spec does not apply to a run). Importing this package registers every spec
in :data:`~stallmagic.remedies.remedy.SPECS`; ``as_code`` writes ``...`` for the arguments of ``fit`` that stay
as they are (a comment instead, where the call spells out its data: ``...`` after a keyword does not parse), and
the model's variable as ``model`` unless the remedy's context names it. Every snippet parses
(``tests/remedies/test_snippets.py``).
"""

from __future__ import annotations

# Registration order is catalogue order (CODES, the list of known codes in errors, the panel): keep these imports
# in this order, not sorted.
# isort: off
from . import fit  # noqa: F401
from . import optimizer  # noqa: F401
from . import model  # noqa: F401
from . import data  # noqa: F401
from . import advice  # noqa: F401
# isort: on
