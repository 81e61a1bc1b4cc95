"""The kernel half of the panel's watch on its kernel (:mod:`stallmagic.notebook.connection`).

What the frontend does with it (a banner and disabled buttons once the kernel died or restarted) is checked in a
real JupyterLab and Notebook 7 (``tests/browser/test_frontends.py``). Here: the ping is answered with its own
sequence number (a kernel that holds the panel says so), anything else is ignored, and the banner's texts and the
frontend's module travel with the widget.
"""

from __future__ import annotations

from stallmagic.notebook.connection import GONE_MESSAGE, LOST_MESSAGE, ConnectionWatch


def test_a_ping_is_answered_with_its_sequence_number_and_nothing_else_is():
    watch = ConnectionWatch()
    sent: list = []
    watch.send = lambda content, buffers=None: sent.append(content)  # the comm's far end is the browser
    watch._handle_custom_msg({"kind": "ping", "seq": 7}, [])
    watch._handle_custom_msg({"kind": "other", "seq": 8}, [])
    watch._handle_custom_msg("ping", [])
    assert sent == [{"kind": "pong", "seq": 7}]
    watch.close()


def test_the_frontend_gets_the_module_and_the_panel_texts():
    watch = ConnectionWatch()
    state = watch.get_state()
    assert "export default" in state["_esm"] and "stallmagic-panel" in state["_esm"]
    assert state["gone_message"] == GONE_MESSAGE and state["lost_message"] == LOST_MESSAGE
    assert state["check_every_ms"] > 0 and state["settle_ms"] < state["ping_every_ms"]
    watch.close()
