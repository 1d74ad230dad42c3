"""locad: Python client for the locad mesh-optimization daemon.

>>> import locad
>>> with locad.Client("127.0.0.1:7878") as c:
...     m = c.mesh_load_file("spot.obj")
...     p = c.problem_create(m["mesh"], variables=[{"name": "x", "dim": 3}])

The asyncio client is :class:`locad.aio.AsyncClient` (``import locad.aio``).
"""

from .arrays import CSR, NIL, decode_array, encode_array
from .client import DEFAULT_ADDRESS, Call, Client, parse_address
from .custom import CustomEnergy, energy
from .errors import (AuthError, BusyError, CancelledError, ConnectionClosed, InternalError,
                     InvalidError, LocadError, MethodError, NoMemoryError, NotFoundError,
                     NumericError, ParamsError, ParseError, ShutdownError, TimeoutError)
from .export import write_mesh
from .problem import read_obj, write_obj
from .progress import ProgressBar
from .results import SolveResult, Variables

__version__ = "0.1.0"

__all__ = [
    "Client", "Call", "SolveResult", "Variables", "CSR", "NIL", "DEFAULT_ADDRESS", "parse_address",
    "encode_array", "decode_array", "ProgressBar",
    "LocadError", "ParseError", "MethodError", "ParamsError", "NotFoundError", "InvalidError",
    "NoMemoryError", "BusyError", "CancelledError", "AuthError", "NumericError", "InternalError",
    "ShutdownError", "TimeoutError", "ConnectionClosed", "read_obj", "write_obj", "write_mesh",
    "energy", "CustomEnergy",
]
