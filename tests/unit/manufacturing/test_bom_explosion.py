"""BOM explosion for work orders (``erp.manufacturing.bom_explosion``): phantoms exploded
through, scrap compounding level by level, merged and ordered requirements."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp.manufacturing import errors
from erp.manufacturing.bom_explosion import ExplosionLine, Requirement, explode
from erp.manufacturing.checks import ceil_9
from erp.manufacturing.errors import BomCycle, InvalidPlanningData

D = Decimal


def test_a_phantom_kit_is_exploded_through_with_its_scrap_compounded():
    kit = [ExplosionLine("bolt", D(4), backflush=True), ExplosionLine("gear", D(2), D("0.1"), backflush=True)]
    lines = [ExplosionLine("housing", D(1), D("0.05"), backflush=True),
             ExplosionLine("kit", D(1), D("0.02"), phantom=True),
             ExplosionLine("nameplate", D(1))]
    assert explode("gearbox", lines, {"kit": kit}) == [
        Requirement("bolt", True, D(4), D("4.08")),  # 1 × 1.02 × 4
        Requirement("gear", True, D(2), D("2.244")),  # 1 × 1.02 × 2 × 1.1
        Requirement("housing", True, D(1), D("1.05")),
        Requirement("nameplate", False, D(1), D(1)),
    ]


def test_the_same_component_on_two_paths_is_one_requirement_per_way_of_issuing_it():
    kit = [ExplosionLine("bolt", D(4), backflush=True)]
    lines = [ExplosionLine("bolt", D(2), backflush=True), ExplosionLine("kit", D(3), phantom=True),
             ExplosionLine("bolt", D(1))]
    assert explode("frame", lines, {"kit": kit}) == [
        Requirement("bolt", False, D(1), D(1)), Requirement("bolt", True, D(14), D(14))]


def test_a_phantom_without_a_released_bom_and_a_loop_through_phantoms_are_refused():
    with pytest.raises(InvalidPlanningData) as refused:
        explode("gearbox", [ExplosionLine("kit", D(1), phantom=True)], {})
    assert refused.value.code == errors.PHANTOM_WITHOUT_BOM and refused.value.details == {"item_id": "kit"}
    boms = {"a": [ExplosionLine("b", D(1), phantom=True)], "b": [ExplosionLine("a", D(1), phantom=True)]}
    with pytest.raises(BomCycle) as loop:
        explode("top", [ExplosionLine("a", D(1), phantom=True)], boms)
    assert loop.value.details["cycle"] == ["a", "b", "a"]


def test_stored_quantities_round_up_to_nine_decimals():
    [requirement] = explode("x", [ExplosionLine("y", D("0.333333333"), D("0.05"))], {})
    assert requirement.gross_quantity_per == D("0.34999999965")
    assert ceil_9(requirement.gross_quantity_per) == D("0.35")
    assert ceil_9(D("1.0000000001")) == D("1.000000001") and ceil_9(D(0)) == 0


# -- properties ---------------------------------------------------------------------------------

quantities = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
scraps = st.decimals(min_value=D(0), max_value=D("0.5"), places=2)
COMPONENTS = ["c1", "c2", "c3", "c4"]
PHANTOMS = ["p1", "p2"]


@st.composite
def lines_of(draw, components: list[str], max_size: int = 5) -> list[ExplosionLine]:
    return draw(st.lists(st.builds(ExplosionLine, st.sampled_from(components), quantities, scraps,
                                   st.just(False), st.booleans()), max_size=max_size))


@st.composite
def plans(draw):
    """Top lines over components and two phantoms; p1's BOM may use p2, p2's only components."""
    p2 = draw(lines_of(COMPONENTS).filter(bool))
    p1 = draw(lines_of(COMPONENTS)) + [ExplosionLine("p2", q, s, True) for q, s in draw(
        st.lists(st.tuples(quantities, scraps), max_size=2))]
    if not p1:
        p1 = [ExplosionLine("c1", D(1))]
    top = draw(lines_of(COMPONENTS)) + [ExplosionLine(p, q, s, True) for p, q, s in draw(
        st.lists(st.tuples(st.sampled_from(PHANTOMS), quantities, scraps), max_size=3))]
    return top, {"p1": p1, "p2": p2}


def _inline(lines: list[ExplosionLine], boms: dict[str, list[ExplosionLine]]) -> list[ExplosionLine]:
    """The same structure written without phantoms: each phantom line replaced by its lines with
    quantity × the phantom's quantity per and scrap compounded, all at one level."""
    flat = []
    for line in lines:
        if not line.phantom:
            flat.append(line)
            continue
        factor = line.quantity_per * (1 + line.scrap_factor)
        for below in _inline(boms[line.component_id], boms):
            # Push the phantom's factor into the quantity and keep the child's scrap separate.
            flat.append(ExplosionLine(below.component_id, below.quantity_per * factor, below.scrap_factor,
                                      False, below.backflush))
    return flat


@given(plans())
def test_no_phantom_survives_and_gross_is_at_least_net(plan):
    top, boms = plan
    result = explode("top", top, boms)
    assert all(r.item_id in COMPONENTS for r in result)
    assert all(r.gross_quantity_per >= r.quantity_per > 0 for r in result)
    assert [(r.item_id, r.backflush) for r in result] == sorted({(r.item_id, r.backflush) for r in result})


@given(plans())
def test_exploding_a_phantom_gives_what_inlining_its_lines_gives(plan):
    top, boms = plan
    exploded = {(r.item_id, r.backflush): r.gross_quantity_per for r in explode("top", top, boms)}
    inlined = {(r.item_id, r.backflush): r.gross_quantity_per for r in explode("top", _inline(top, boms), {})}
    assert exploded == inlined


@given(plans(), st.randoms(use_true_random=False))
def test_the_order_of_the_lines_does_not_change_the_requirements(plan, random):
    top, boms = plan
    shuffled = list(top)
    random.shuffle(shuffled)
    assert explode("top", shuffled, boms) == explode("top", top, boms)


@given(lines_of(COMPONENTS, 8))
def test_without_scrap_gross_equals_net(lines):
    lines = [ExplosionLine(line.component_id, line.quantity_per, D(0), False, line.backflush) for line in lines]
    assert all(r.gross_quantity_per == r.quantity_per for r in explode("top", lines, {}))
