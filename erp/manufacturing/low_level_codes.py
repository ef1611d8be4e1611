"""Low-level codes: the deepest level at which each item appears in any BOM.

An item's low-level code is 0 when nothing uses it as a component, and otherwise one more than
the largest code of the items that use it. Planning items in increasing code means every
requirement an item will ever receive from its parents is known before the item is netted, so
each item is netted exactly once.

Invariants:
- for every BOM line, code(component) > code(parent);
- computed once per run in O(items + lines) (Kahn's topological order);
- a BOM cycle is refused with ``BomCycle`` (code ``manufacturing.bom_cycle``) naming one loop,
  never broken silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from erp.manufacturing.errors import BomCycle


def low_level_codes(item_ids: Sequence[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Codes of ``item_ids`` given (parent, component) edges between them."""
    components: dict[str, list[str]] = {item_id: [] for item_id in item_ids}
    parents_left = dict.fromkeys(item_ids, 0)
    for parent, component in edges:
        components[parent].append(component)
        parents_left[component] += 1
    codes = dict.fromkeys(item_ids, 0)
    ready = [item_id for item_id, count in parents_left.items() if count == 0]
    placed = 0
    while ready:
        parent = ready.pop()
        placed += 1
        below = codes[parent] + 1
        for component in components[parent]:
            if codes[component] < below:
                codes[component] = below
            parents_left[component] -= 1
            if parents_left[component] == 0:
                ready.append(component)
    if placed < len(codes):
        cycle = _one_cycle({item_id for item_id, count in parents_left.items() if count > 0}, components)
        raise BomCycle(f"BOM cycle: {' → '.join(cycle)}", cycle=cycle)
    return codes


def _one_cycle(stuck: set[str], components: dict[str, list[str]]) -> list[str]:
    """One loop among the items Kahn's order could not place, as parent → component → … → parent."""
    # Each stuck item has a stuck parent (a placed parent would have released it), so walking
    # from parent to parent never ends and must come back to an item it has seen: a loop.
    parents: dict[str, list[str]] = {item_id: [] for item_id in stuck}
    for parent in stuck:
        for component in components[parent]:
            if component in stuck:
                parents[component].append(parent)
    path: list[str] = []
    position: dict[str, int] = {}
    current = min(stuck)
    while current not in position:
        position[current] = len(path)
        path.append(current)
        current = min(parents[current])
    loop = path[position[current]:][::-1]  # reversed: each item is now a parent of the next
    first = loop.index(min(loop))
    loop = loop[first:] + loop[:first]
    return [*loop, loop[0]]
