// The panel's watch on its kernel (see connection.py for why). An anywidget ES module: it renders nothing while the
// kernel that trained the panel's runs answers, and a one-line banner plus disabled controls once it does not.
//
// States: "live"; "lost" (the browser lost its connection to the server: temporary, the controls come back when it
// reconnects and the kernel still answers); "gone" (that kernel restarted, died or was shut down: final, since a new
// kernel holds none of the panel's runs).

const GONE_STATUSES = new Set(["restarting", "autorestarting", "dead"]);
const CONTROLS = "button, select, input, textarea";

function render({ model, el }) {
  const manager = model.widget_manager;
  const kernelNow = () => (manager && "kernel" in manager ? manager.kernel : undefined);
  const first = kernelNow(); // undefined: this frontend does not say (VS Code, Colab): only ipywidgets' own signal
  const firstId = first ? first.id : null;
  let state = "live";
  let disabledHere = [];
  let waiting = false;
  let lastPing = 0;
  let pingSeq = 0;
  let watched = null;

  const panel = () => el.closest(".stallmagic-panel");

  function show(next, reason) {
    if (state === "gone" || state === next) return;
    state = next;
    const root = panel();
    el.dataset.stallmagicConnection = state;
    if (root) root.dataset.stallmagicConnection = state;
    if (state === "live") {
      el.replaceChildren();
      for (const control of disabledHere) control.disabled = false;
      disabledHere = [];
      return;
    }
    const banner = document.createElement("div");
    banner.className = "stallmagic-connection-banner";
    banner.setAttribute("role", "status");
    banner.textContent = model.get(state === "gone" ? "gone_message" : "lost_message");
    if (reason) banner.title = reason;
    el.replaceChildren(banner);
    disableControls();
  }

  // Also for controls drawn after the state changed (a view re-rendered by a late message).
  function disableControls() {
    const root = panel();
    if (!root || state === "live") return;
    for (const control of root.querySelectorAll(CONTROLS)) {
      if (!control.disabled) {
        control.disabled = true;
        disabledHere.push(control);
      }
    }
  }

  function onStatus(_kernel, status) {
    if (GONE_STATUSES.has(status)) show("gone", `kernel ${status}`);
  }

  function onConnection(_kernel, status) {
    if (status === "connected") {
      show("live");
      ping(true);
    } else {
      show("lost", `connection ${status}`);
    }
  }

  function watch(kernel) {
    if (watched === kernel) return;
    unwatch();
    watched = kernel;
    if (kernel && kernel.statusChanged) kernel.statusChanged.connect(onStatus);
    if (kernel && kernel.connectionStatusChanged) kernel.connectionStatusChanged.connect(onConnection);
  }

  function unwatch() {
    if (watched && watched.statusChanged) watched.statusChanged.disconnect(onStatus);
    if (watched && watched.connectionStatusChanged) watched.connectionStatusChanged.disconnect(onConnection);
    watched = null;
  }

  function check() {
    disableControls();
    if (el.classList.contains("jupyter-widgets-disconnected")) return show("gone", "ipywidgets disconnected");
    if (first === undefined) return;
    const kernel = kernelNow();
    if (!kernel) return show("gone", "no kernel");
    if (firstId && kernel.id !== firstId) return show("gone", "another kernel");
    if (GONE_STATUSES.has(kernel.status)) return show("gone", `kernel ${kernel.status}`);
    watch(kernel);
  }

  // A kernel that restarted without a status this view saw (the page slept, a restart from another tab) no longer
  // knows the panel's comm. Ask the panel's kernel half: the kernel handles messages in order and publishes its
  // answer before it reports our message done ("idle" with our message as parent), so "done without an answer"
  // means the kernel no longer holds the panel. A busy kernel just answers later; a frontend that reports nothing
  // per message (no callbacks) never calls the kernel gone.
  function ping(force) {
    if (state !== "live" || waiting) return;
    const now = Date.now();
    if (!force && now - lastPing < model.get("ping_every_ms")) return;
    lastPing = now;
    waiting = true;
    const seq = ++pingSeq;
    let answered = false;
    const onPong = (msg) => {
      if (msg && msg.kind === "pong" && msg.seq === seq) answered = true;
    };
    model.on("msg:custom", onPong);
    const done = (msg) => {
      if (!msg || !msg.content || msg.content.execution_state !== "idle") return;
      setTimeout(() => {
        model.off("msg:custom", onPong);
        waiting = false;
        if (!answered) show("gone", "the kernel handled the panel's message without knowing the panel");
      }, model.get("settle_ms"));
    };
    model.send({ kind: "ping", seq }, { iopub: { status: done } });
  }

  model.on("comm_live_update", () => setTimeout(check, 0));
  const onEnter = () => {
    check();
    ping(false);
  };
  el.addEventListener("pointerenter", onEnter);
  let root = null;
  const attach = () => {
    const found = panel();
    if (found && found !== root) {
      if (root) root.removeEventListener("pointerenter", onEnter);
      root = found;
      root.addEventListener("pointerenter", onEnter);
    }
  };
  const timer = setInterval(() => {
    attach();
    check();
  }, model.get("check_every_ms"));
  setTimeout(() => {
    attach();
    check();
  }, 0);
  return () => {
    clearInterval(timer);
    unwatch();
    if (root) root.removeEventListener("pointerenter", onEnter);
    el.removeEventListener("pointerenter", onEnter);
  };
}

export default { render };
