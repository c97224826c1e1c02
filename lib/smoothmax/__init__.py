"""smoothmax: numerically careful softmax and friends.

The reference library of the *Smooth Max* book.  Each function's docstring
points to the chapter of the book that derives it.

=========================  ==========================================  =======
module                     contents                                    chapter
=========================  ==========================================  =======
``smoothmax.core``         softmax, log_softmax, logsumexp, Jacobian   1
``smoothmax.losses``       cross-entropy, its gradient, label          2, 3
                           smoothing
``smoothmax.coverage``     coverage vector and loss, pointer-          4
                           generator mixture
``smoothmax.temperature``  smooth max, temperature, NormFace scale     5
``smoothmax.check``        self-checks for the exercises (they         all
                           report, never raise)
``smoothmax.widgets``      sliders, live and static (import it         all
                           explicitly; needs the ``widgets`` extra)
=========================  ==========================================  =======
"""

from importlib import import_module as _import_module

__version__ = "0.1.0"

# One line per numerical module; each defines its own __all__.
_MODULES = ["core", "losses", "coverage", "temperature"]

__all__ = []
for _name in _MODULES:
    _mod = _import_module(f".{_name}", __name__)
    globals().update({k: getattr(_mod, k) for k in _mod.__all__})
    __all__ += list(_mod.__all__)
del _name, _mod

from . import check  # noqa: E402  (smoothmax.check.<exercise>(answer))
