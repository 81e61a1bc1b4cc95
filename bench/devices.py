"""Two devices on one CPU for the timing benches' ``--devices 2`` (``bench/overhead.py``, ``bench/panel.py``).

TensorFlow: ``MirroredStrategy`` over two logical CPU devices, configured before TensorFlow initialises (so call
:func:`model_scope` before anything else touches TensorFlow). JAX (``KERAS_BACKEND=jax
XLA_FLAGS=--xla_force_host_platform_device_count=2``): Keras's ``DataParallel`` over two host devices, set for the
whole process. On two devices the benches train on the first :data:`TWO_DEVICE_ROWS` digits, so that every batch,
the last ones included, divides between the two replicas (Keras's JAX data parallelism refuses one that does not).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable

import keras

#: Digits rows used on two devices: 1,280 training and 320 validation rows, whose last batches are even for any
#: even batch size.
TWO_DEVICE_ROWS = 1600


def add_devices_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--devices`` option, worded the same in every bench."""
    parser.add_argument("--devices", type=int, choices=(1, 2), default=1, help="train on 1 or 2 devices (default 1)")


def model_scope(devices: int) -> Callable[[], contextlib.AbstractContextManager]:
    """Set up ``devices`` devices on this CPU; return what makes the scope models are built in (see the module
    docstring): ``nullcontext`` on one device and for JAX, whose distribution is set for the whole process."""
    if devices == 1:
        return contextlib.nullcontext
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope
    import jax

    if len(jax.devices()) < 2:
        raise SystemExit("--devices 2 on JAX needs XLA_FLAGS=--xla_force_host_platform_device_count=2")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()[:2]))
    return contextlib.nullcontext
