"""numpy functions beyond the core table (issue 13), one module per group. Each module registers
its primitives and numpy entry points on import; add a group with one import line."""
from . import decompositions  # noqa: F401
from . import linalg  # noqa: F401
from . import shape  # noqa: F401
from . import elementwise  # noqa: F401
from . import statistics  # noqa: F401
from . import signal  # noqa: F401
