"""locad: Python client for the locad mesh-optimization daemon.

>>> import locad
>>> with locad.Client("127.0.0.1:7878") as c:
...     m = c.mesh_load_file("spot.obj")
...     p = c.problem_create(m["mesh"], variables=[{"name": "x", "dim": 3}])
"""

from .arrays import CSR, NIL, decode_array, encode_array
from .client import DEFAULT_ADDRESS, Call, Client, SolveResult, parse_address
from .errors import (AuthError, BusyError, CancelledError, ConnectionClosed, InternalError,
                     InvalidError, LocadError, MethodError, NoMemoryError, NotFoundError,
                     NumericError, ParamsError, ParseError, ShutdownError, TimeoutError)
from .problem import read_obj, write_obj

__version__ = "0.1.0"

__all__ = [
    "Client", "Call", "SolveResult", "CSR", "NIL", "DEFAULT_ADDRESS", "parse_address", "encode_array", "decode_array",
    "LocadError", "ParseError", "MethodError", "ParamsError", "NotFoundError", "InvalidError",
    "NoMemoryError", "BusyError", "CancelledError", "AuthError", "NumericError", "InternalError",
    "ShutdownError", "TimeoutError", "ConnectionClosed", "read_obj", "write_obj",
]
