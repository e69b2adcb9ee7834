"""Pausing the cyclic garbage collector while building many long-lived objects.

Parsing a 1 MB pack or building a large index allocates millions of objects, none of them
garbage: the collector would walk the growing heap again and again, and each full collection
stops every thread (a pause of several hundred milliseconds, during which no interaction of any
server is served). Reference counting still frees what is dropped. Pauses may overlap (an import
parsed in a worker thread while a scope is rebuilt): the collector runs again when the last ends,
and only if it was running when the first began.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
