"""Walk nested containers (dicts, lists, tuples and, when asked, objects' attributes) down to their leaves."""

from __future__ import annotations

from typing import Any, Iterator


def iter_leaves(value: Any, path: str = "", into_objects: bool = False) -> Iterator[tuple[str, Any]]:
    """Every leaf of a nested value with its path (``a.b[2]``); with ``into_objects``, attributes of objects too.

    Args:
        value: the nested value.
        path: the path of ``value`` itself.
        into_objects: descend into the ``__dict__`` of objects (e.g. a fitted scikit-learn estimator's trees).

    Example:
        >>> list(iter_leaves({"a": [1, {"b": 2.5}]}))
        [('.a[0]', 1), ('.a[1].b', 2.5)]
    """
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from iter_leaves(inner, f"{path}.{key}", into_objects)
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            yield from iter_leaves(inner, f"{path}[{index}]", into_objects)
    elif into_objects and hasattr(value, "__dict__") and not isinstance(value, type):
        yield from iter_leaves(vars(value), path, into_objects)
    else:
        yield path, value
