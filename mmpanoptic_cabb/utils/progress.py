"""Progress bars on long loops (mmengine's ``ProgressBar``, on stderr).

Shown when stderr is a terminal, so the command-line tools show them and
tests, logs and pipes stay quiet; ``MMPC_PROGRESS=1`` / ``0`` forces them on
or off.
"""
import os
import sys
from typing import Iterable, Iterator, Optional, TypeVar

T = TypeVar('T')

#: Environment variable forcing the bars on (1) or off (0).
PROGRESS_ENV = 'MMPC_PROGRESS'


def progress_enabled() -> bool:
    """Whether :func:`track` draws a bar (see the module)."""
    forced = os.environ.get(PROGRESS_ENV)
    if forced is not None:
        return forced.strip() not in ('', '0', 'false', 'False')
    return bool(getattr(sys.stderr, 'isatty', lambda: False)())


def track(iterable: Iterable[T],
          total: Optional[int] = None,
          description: str = '',
          enabled: Optional[bool] = None) -> Iterator[T]:
    """Yield from ``iterable`` with a progress bar and ETA on stderr.

    Args:
        iterable (Iterable): The work items.
        total (int, optional): Number of items; ``len(iterable)`` when None.
        description (str): Printed before the bar.
        enabled (bool, optional): Force the bar on or off; None follows
            :func:`progress_enabled`.

    Yields:
        The items of ``iterable``.
    """
    if enabled is None:
        enabled = progress_enabled()
    if total is None:
        total = len(iterable)  # type: ignore[arg-type]
    if not enabled or total <= 0:
        yield from iterable
        return
    from mmengine.utils import ProgressBar
    if description:
        sys.stderr.write(f'{description}\n')
    bar = ProgressBar(total, file=sys.stderr)
    for item in iterable:
        yield item
        bar.update()
    sys.stderr.write('\n')
    sys.stderr.flush()
