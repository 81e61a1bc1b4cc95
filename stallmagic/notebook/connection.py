"""The panel's watch on its kernel: when the kernel that trained the runs is gone, the panel says so and its buttons
are disabled, instead of ignoring clicks.

Why a widget with its own frontend code: the kernel side cannot know that it died or restarted, and ipywidgets
marks its views disconnected (the CSS class ``jupyter-widgets-disconnected``) only on a restart started from the
page; a kernel that died and was restarted by the server, one shut down, or one restarted from another tab leaves
every widget looking live. :class:`ConnectionWatch` is an `anywidget <https://anywidget.dev>`_ (a maintained library
that ships its own prebuilt JupyterLab / Notebook 7 extension and runs in VS Code and Colab too): its ES module
(``connection.js``, read once at import) watches

* ipywidgets' own signal (the view's ``jupyter-widgets-disconnected`` class),
* the notebook's kernel connection, where the frontend exposes it through the widget manager (JupyterLab 4,
  Notebook 7): a status of restarting, autorestarting or dead, no kernel, or another kernel means **gone**; the
  browser's connection to the server dropping means **lost** until it reconnects;
* and, when the pointer enters the panel (at most every few seconds), a ping to this widget's kernel half
  (:meth:`ConnectionWatch._answer`): the kernel publishes the answer before it reports the ping handled, so a ping
  handled without an answer means a new kernel process that does not know the panel (a busy kernel answers later).

Gone is final (the runs lived in the old kernel); lost is not. Either way the banner's text comes from here, so it
reads like the rest of the panel. Where the frontend exposes no kernel (VS Code, Colab) only ipywidgets' signal is
used, and a panel is never called gone because its kernel is busy training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

#: The frontend half, an ES module (anywidget's ``render({model, el})``).
ESM = (Path(__file__).with_name("connection.js")).read_text(encoding="utf-8")

#: What the banner says once the panel's kernel is gone for good.
GONE_MESSAGE = (
    "The kernel that trained these runs has restarted, stopped or died: this panel is a record now and its "
    "buttons are off. Run the cell again to diagnose and rerun."
)
#: What it says while the browser cannot reach the kernel (the buttons come back with the connection).
LOST_MESSAGE = "Connection to the kernel lost: the buttons are off until it is back."

CSS = """
.stallmagic-connection-banner {
  margin: 4px 0; padding: 4px 8px; border-left: 4px solid #b45309;
  background: var(--jp-layout-color2, #f3f3f3); color: var(--jp-ui-font-color0, #111);
  line-height: 1.45; white-space: normal;
}
.stallmagic-panel[data-stallmagic-connection="gone"] button,
.stallmagic-panel[data-stallmagic-connection="lost"] button { cursor: not-allowed; }
"""


class ConnectionWatch(anywidget.AnyWidget):
    """Invisible while the panel's kernel answers; a banner, and the panel's controls disabled, once it does not.

    Add it anywhere inside the panel's root (an element with the class ``stallmagic-panel``).
    """

    _esm = ESM
    _css = CSS
    gone_message = traitlets.Unicode(GONE_MESSAGE).tag(sync=True)
    lost_message = traitlets.Unicode(LOST_MESSAGE).tag(sync=True)
    #: How often the frontend re-reads the kernel's identity and status (a cheap read, no message).
    check_every_ms = traitlets.Int(1000).tag(sync=True)
    #: At most one ping per this many milliseconds, sent when the pointer enters the panel.
    ping_every_ms = traitlets.Int(5000).tag(sync=True)
    #: How long after the kernel reported the ping handled the frontend waits for the answer before it decides.
    settle_ms = traitlets.Int(500).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._answer)

    def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Answer the frontend's ping: this kernel still holds the panel."""
        if isinstance(content, dict) and content.get("kind") == "ping":
            self.send({"kind": "pong", "seq": content.get("seq")})
