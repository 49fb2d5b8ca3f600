"""One-to-one name mapping for exports: every mlnb name gets its own valid target name.

MLflow accepts metric, param and tag keys made of letters, digits, ``_ - . / :`` and
spaces, at most 250 characters, that do not resolve to another path
(``a//b``, ``../x``). :func:`mlflow_key` cleans one name; :func:`one_to_one` maps a
whole set of names so that no two of them end up with the same key:

* a name that is already valid keeps it;
* a cleaned name that clashes with nothing is used as it is
  (``loss (train)`` → ``loss _train_``);
* cleaned names that clash with each other or with a valid name, and names cut to
  the length limit, get ``-`` and the first hex digits of the SHA-1 of the original
  name (``loss [train]`` → ``loss _train_-4c1e0f``): the same original always gets
  the same suffix, whatever else was exported with it.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable

#: MLflow's limit on metric, param and tag key length (``MAX_ENTITY_KEY_LENGTH``)
MLFLOW_KEY_LIMIT = 250


def mlflow_key(name: str) -> str:
    """A metric/param name MLflow accepts: other characters become ``_``, no empty path parts."""
    cleaned = re.sub(r"[^/\w.\- :]", "_", name)
    parts = [p for p in cleaned.split("/") if p not in ("", ".", "..")]
    key = "/".join(parts) or "_"
    return key if posixpath.normpath(key) == key else key.replace("/", "_")


def one_to_one(
    names: Iterable[str],
    clean: Callable[[str], str] = mlflow_key,
    limit: int = MLFLOW_KEY_LIMIT,
) -> dict[str, str]:
    """``{name: target name}`` for every name, no two targets equal (see the module text).

    ``clean`` must return a valid name for any text and leave valid names unchanged.
    """
    unique = sorted(set(names))
    mapping = {n: n for n in unique if clean(n) == n and len(n) <= limit}
    taken = set(mapping)
    todo = [n for n in unique if n not in mapping]
    cleaned = {n: clean(n) for n in todo}
    counts = Counter(cleaned.values())
    for name in todo:
        target = cleaned[name]
        if len(target) <= limit and counts[target] == 1 and target not in taken:
            mapping[name] = target
            taken.add(target)
    for name in todo:
        if name in mapping:
            continue
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()
        for width in range(6, len(digest) + 1, 2):
            suffix = f"-{digest[:width]}"
            target = clean(cleaned[name][: limit - len(suffix)].rstrip("/") + suffix)
            if target not in taken and len(target) <= limit:
                break
        else:  # pragma: no cover - needs a SHA-1 collision on 40 hex digits
            raise AssertionError(f"no free name for {name!r}")
        mapping[name] = target
        taken.add(target)
    return mapping


def renamed(mapping: dict[str, str]) -> dict[str, str]:
    """The entries of ``mapping`` whose name changed."""
    return {k: v for k, v in mapping.items() if k != v}
