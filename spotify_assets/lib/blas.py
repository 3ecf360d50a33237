"""One BLAS thread for the products of a search (the query encoder, taste scoring).

OpenBLAS threads spinning on a busy 2-core machine made one query encoding 20× slower and a
taste search's products 10-25× slower (measured); a search's products are small, and a web
app runs several searches at once, each in its own thread. `spotify-assets serve` sets one
thread for the whole process; this limits a single call in any other process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_controller = None
_lock = threading.Lock()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    global _controller
    if _controller is None:  # inspecting the loaded libraries costs a millisecond: once
        from threadpoolctl import ThreadpoolController

        with _lock:
            _controller = _controller or ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
