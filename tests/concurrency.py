"""Run the same action from several threads at once, each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def race(fn: Callable[[Any], Any], args: Sequence[Any]) -> list[tuple[str, Any]]:
    """Call fn(arg) in one thread per arg, released together by a barrier.

    Returns, in the order of `args`, ("ok", result) or ("error", exception): the
    tests look at what each caller got.
    """
    from django.db import connection

    barrier = threading.Barrier(len(args))
    results: list[tuple[str, Any]] = [("error", TimeoutError("the thread did not finish"))] * len(args)

    def run(i: int, arg: Any) -> None:
        try:
            barrier.wait(10)
            results[i] = ("ok", fn(arg))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results
