"""smoothmax: numerically careful softmax and friends.

The reference library of the *Smooth Max* book.  Each function's docstring
points to the chapter of the book that derives it.
"""

from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all

# widgets are imported lazily: import smoothmax.widgets
# (do not import it here: it pulls in matplotlib and ipywidgets)

__version__ = "0.1.0"

__all__ = list(_core_all) + list(_losses_all)
