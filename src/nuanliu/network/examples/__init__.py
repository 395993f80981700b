"""Example networks shipped with Nuanliu.

``list_examples()`` names them with a one-line description; ``load_example(name)``
returns a fresh :class:`~nuanliu.network.model.Network`:

- ``jiexiu``: the real primary network of Jiexiu (Shanxi), imported from public data
  (``data/jiexiu/``, importer :func:`nuanliu.network.examples.jiexiu.import_jiexiu`).
- ``tuoketuo-hohhot``: an illustrative model of the Tuoketuo → Hohhot long-distance
  heating system (``data/tuoketuo-hohhot/``, built by
  :func:`nuanliu.network.examples.tuoketuo.build_tuoketuo_hohhot`).

Each data folder has a README.md stating sources and every assumption.
"""

from __future__ import annotations

from pathlib import Path

from nuanliu.errors import NotFound
from nuanliu.network.model import Network

DATA_DIR = Path(__file__).resolve().parent / "data"

_EXAMPLES: dict[str, tuple[str, str]] = {
    "jiexiu": (
        "jiexiu",
        "Real primary network of Jiexiu (Shanxi): 2 sources, 109 substations, 86.5 km (tree)",
    ),
    "tuoketuo-hohhot": (
        "tuoketuo-hohhot",
        "Tuoketuo CHP → 68.4 km DN1600 line, 2 relay pump stations, isolation station, "
        "Hohhot city network (illustrative)",
    ),
}


def list_examples() -> dict[str, str]:
    """Example name → one-line description."""
    return {name: desc for name, (_, desc) in _EXAMPLES.items()}


def example_path(name: str) -> Path:
    """The shipped CSV bundle folder of example ``name``."""
    if name not in _EXAMPLES:
        raise NotFound(
            f"no example network {name!r}; available: {', '.join(_EXAMPLES)}",
            details={"name": name, "available": list(_EXAMPLES)},
        )
    return DATA_DIR / _EXAMPLES[name][0]


def load_example(name: str) -> Network:
    """A fresh copy of example network ``name`` (NotFound lists the available ones)."""
    from nuanliu.network.io.csv_bundle import read_csv_bundle

    return read_csv_bundle(example_path(name))
