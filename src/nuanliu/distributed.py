"""The one seam for fanning work out: Dask distributed, a local cluster by default.

``run_tasks(fn, items)`` runs ``fn(item)`` for every item and returns the results in
the order of ``items``, whatever the number of workers; ``scheduler="tcp://HOST:8786"``
uses an existing cluster, ``None`` starts a local one for the call (``workers``
processes), and ``workers=0`` runs in this process (no Dask), which is the reference
the distributed result must equal. ``on_done(done, total)`` reports progress; a
Ctrl-C cancels what has not run and raises ``Interrupted`` carrying what has finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from nuanliu.errors import NuanliuError

T = TypeVar("T")
R = TypeVar("R")


class Interrupted(NuanliuError):
    """The run was stopped; ``done`` maps item index → result for what finished."""

    def __init__(self, done: dict[int, Any], total: int) -> None:
        super().__init__(f"interrupted after {len(done)} of {total} tasks")
        self.done = done
        self.total = total


@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A client to ``scheduler``, or to a local cluster of ``workers`` processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: str | None = None,
    workers: int = 2,
    on_done: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``[fn(x) for x in items]``, fanned out on Dask unless ``workers == 0``."""
    total = len(items)
    done: dict[int, Any] = {}
    try:
        if workers == 0 and not scheduler:
            for i, item in enumerate(items):
                done[i] = fn(item)
                if on_done:
                    on_done(len(done), total)
        else:
            from dask.distributed import as_completed

            with dask_client(scheduler, workers) as client:
                futures = client.map(fn, list(items), pure=False)
                index = {f.key: i for i, f in enumerate(futures)}
                try:
                    for future in as_completed(futures):
                        done[index[future.key]] = future.result()
                        if on_done:
                            on_done(len(done), total)
                except BaseException:
                    client.cancel(futures)
                    raise
    except KeyboardInterrupt:
        raise Interrupted(done, total) from None
    return [done[i] for i in range(total)]
