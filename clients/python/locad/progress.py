"""Progress bar for long solves and steps, fed by the daemon's ``problem.progress`` notifications.

Shown only when asked for (``progress_bar=True``) or, by default (``progress_bar=None``), when the
stream it writes to (sys.stderr unless given) is a terminal; and only once a solve has run for
:data:`DELAY` seconds, so short solves print nothing. It uses tqdm when installed and a one-line
text display (carriage returns) otherwise.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Mapping, Optional, TextIO

try:  # tqdm is optional
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - depends on the environment
    _tqdm = None

#: Seconds a solve runs before its bar appears.
DELAY = 0.5
#: Least seconds between two redraws of the text display.
_MIN_INTERVAL = 0.1

Progress = Callable[[Mapping[str, Any]], Any]


def wanted(flag: Optional[bool], stream: Optional[TextIO] = None) -> bool:
    """Whether to show a bar: ``flag`` when True/False; with None, whether ``stream`` (default
    sys.stderr) is a terminal."""
    if flag is not None:
        return bool(flag)
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class ProgressBar:
    """One solve's bar: :meth:`update` with each notification, :meth:`close` at the end.

    ``total``: the iteration budget when known (``max_iters``); ``desc``: the label;
    ``use_tqdm``: None uses tqdm when installed, False the text display.
    """

    def __init__(self, desc: str = "locad", total: Optional[int] = None,
                 stream: Optional[TextIO] = None, use_tqdm: Optional[bool] = None,
                 delay: Optional[float] = None):
        self.desc = desc
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.delay = DELAY if delay is None else delay
        self.use_tqdm = _tqdm is not None if use_tqdm is None else bool(use_tqdm)
        if self.use_tqdm and _tqdm is None:
            raise ImportError("the tqdm progress bar needs tqdm (apt-get install python3-tqdm or "
                              "pip install tqdm); use_tqdm=None falls back to the text display")
        self._t0 = time.monotonic()
        self._bar = None
        self._last_draw = 0.0
        self._shown = False
        self._last = 0  # the last notification's iteration
        self._count = 0  # iterations so far
        self.updates = 0

    def update(self, info: Mapping[str, Any]) -> None:
        """Advances the bar to the notification's iteration (counted across the steps of a
        problem.step call, whose iterations restart each step), with its energy and gradient
        norm."""
        self.updates += 1
        it = int(info.get("iter", self._last + 1))
        self._count += it - self._last if it > self._last else it
        self._last = it
        energy, gnorm = info.get("energy"), info.get("gnorm")
        if self.use_tqdm:
            if self._bar is None:
                self._bar = _tqdm(total=self.total, desc=self.desc, file=self.stream,
                                  delay=self.delay, unit="it", leave=True, dynamic_ncols=True)
            self._bar.set_postfix(energy=f"{energy:.6g}" if energy is not None else "?",
                                  gnorm=f"{gnorm:.2e}" if gnorm is not None else "?", refresh=False)
            self._bar.update(self._count - self._bar.n)
            return
        now = time.monotonic()
        if now - self._t0 < self.delay or now - self._last_draw < _MIN_INTERVAL:
            return
        self._draw(energy, gnorm)
        self._last_draw = now

    def _draw(self, energy: Any, gnorm: Any) -> None:
        total = f"/{self.total}" if self.total else ""
        e = f"{energy:.6g}" if isinstance(energy, (int, float)) else "?"
        g = f"{gnorm:.2e}" if isinstance(gnorm, (int, float)) else "?"
        line = f"\r{self.desc}: iter {self._count}{total}  energy {e}  gnorm {g}"
        self.stream.write(line.ljust(72))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Ends the bar (a newline after the text display when it was shown)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def chain(user: Optional[Progress], bar: Optional[ProgressBar]) -> Optional[Progress]:
    """A progress callback feeding ``bar`` and then calling ``user`` (whose False cancels)."""
    if bar is None:
        return user
    if user is None:
        return lambda info: bar.update(info)

    def both(info: Mapping[str, Any]) -> Any:
        bar.update(info)
        return user(info)
    return both


def for_call(flag: Optional[bool], stream: Optional[TextIO], method: str,
             options: Optional[Mapping[str, Any]]) -> Optional[ProgressBar]:
    """The bar for one solve/step call, or None when none is wanted."""
    if not wanted(flag, stream):
        return None
    total = None
    if method == "problem.solve":
        total = int((options or {}).get("max_iters", 100))
    return ProgressBar("locad " + method.split(".")[-1], total, stream)
