"""The valuation calculators: value is conserved, layers stay sound, the methods agree when they must."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from erp.inventory.valuation import (
    Layer, Move, MonthTotals, Position, apply_fifo, apply_moving_average, close_month, fifo, money, month_totals,
    monthly_weighted, moving_average,
)

D = Decimal
quantities = st.decimals(min_value=D("0.001"), max_value=D(1000), places=3)
costs = st.decimals(min_value=D(0), max_value=D(500), places=4)


@st.composite
def ledgers(draw, *, allow_negative: bool = True, allow_costless: bool = True, same_cost: Decimal | None = None):
    """Signed moves of one item; reversals of receipts carry the receipt's cost like the ledger does."""
    moves: list[Move] = []
    on_hand = D(0)
    receipts: list[Move] = []
    for index in range(draw(st.integers(min_value=1, max_value=30))):
        kind = draw(st.sampled_from(["receipt", "issue", "issue", "costless_in", "reverse"]))
        move_id = f"m{index}"
        if kind == "receipt" or (kind == "costless_in" and not allow_costless):
            cost = same_cost if same_cost is not None else draw(costs)
            move = Move(draw(quantities), cost, move_id)
            receipts.append(move)
        elif kind == "costless_in":
            move = Move(draw(quantities), None, move_id)
        elif kind == "reverse" and receipts:
            original = receipts.pop(draw(st.integers(min_value=0, max_value=len(receipts) - 1)))
            if not allow_negative and original.quantity > on_hand:
                continue
            move = Move(-original.quantity, original.unit_cost, move_id, reverses_id=original.move_id)
        else:
            wanted = draw(quantities)
            if not allow_negative:
                wanted = min(wanted, on_hand)
                if wanted <= 0:
                    continue
            move = Move(-wanted, None, move_id)
        on_hand += move.quantity
        moves.append(move)
    return moves


def assert_conserved(result, moves: list[Move]) -> None:
    incoming = sum((v.value for v in result.valued if v.quantity > 0), D(0))
    outgoing = -sum((v.value for v in result.valued if v.quantity < 0), D(0))
    assert incoming - outgoing == result.closing.value + result.variance
    assert result.closing.quantity == sum((m.quantity for m in moves), D(0))
    for v in result.valued:
        assert v.value == money(v.value)  # every amount is booked to the cent


@given(ledgers())
def test_moving_average_conserves_value(moves) -> None:
    assert_conserved(moving_average(moves), moves)


@given(ledgers())
def test_fifo_conserves_value(moves) -> None:
    result = fifo(moves)
    assert_conserved(result, moves)
    layers = result.closing.layers
    if result.closing.quantity > 0:
        assert sum((layer.quantity for layer in layers), D(0)) == result.closing.quantity
        assert sum((layer.value for layer in layers), D(0)) == result.closing.value
    else:
        assert layers == ()


@given(ledgers(allow_negative=False))
def test_fifo_layers_never_negative_when_stock_is_not(moves) -> None:
    position = Position()
    for move in moves:
        position, _ = apply_fifo(position, move)
        assert position.quantity >= 0
        assert all(layer.quantity > 0 and layer.value >= 0 for layer in position.layers)
        assert position.value >= 0


@given(ledgers(allow_negative=False))
def test_moving_average_value_never_negative_when_stock_is_not(moves) -> None:
    position = Position()
    for move in moves:
        position, _ = apply_moving_average(position, move)
        assert position.value >= 0
        if position.quantity == 0:
            assert position.value == 0  # an emptied position keeps no stray cents


@given(st.data(), costs)
def test_all_methods_agree_when_every_receipt_costs_the_same(data, cost) -> None:
    moves = data.draw(ledgers(allow_negative=False, allow_costless=False, same_cost=cost))
    by_average = moving_average(moves).closing
    by_fifo = fifo(moves).closing
    (month,) = monthly_weighted([moves])
    # Each booking rounds to the cent, so the methods may differ by a cent per move.
    tolerance = MONEY_PER_MOVE * len(moves)
    assert by_average.quantity == by_fifo.quantity == month.closing.quantity
    assert abs(by_average.value - by_fifo.value) <= tolerance
    assert abs(by_average.value - month.closing.value) <= tolerance
    assert abs(by_average.value - money(by_average.quantity * cost)) <= tolerance


MONEY_PER_MOVE = D("0.01")


@given(st.lists(st.tuples(quantities, costs), min_size=1, max_size=20),
       st.decimals(min_value=0, max_value=D(5000), places=3))
def test_monthly_rate_lies_between_the_cheapest_and_dearest_receipt(receipts, taken) -> None:
    moves = [Move(q, c, f"r{i}") for i, (q, c) in enumerate(receipts)] + [Move(-taken)]
    (month,) = monthly_weighted([moves])
    in_q = sum((q for q, _ in receipts), D(0))
    slack = D("0.005") * len(receipts) / in_q  # each receipt's value is rounded to the cent
    assert min(c for _, c in receipts) - slack <= month.rate <= max(c for _, c in receipts) + slack


@given(ledgers(), st.randoms(use_true_random=False))
def test_monthly_is_insensitive_to_order_within_the_month(moves, rnd) -> None:
    shuffled = list(moves)
    rnd.shuffle(shuffled)
    assert close_month(Position(), month_totals(moves)) == close_month(Position(), month_totals(shuffled))


@given(st.lists(ledgers(), min_size=1, max_size=4))
def test_monthly_conserves_value_across_months(months) -> None:
    opening = Position()
    for result in monthly_weighted(months):
        assert result.opening == opening
        assert (opening.value + result.totals.incoming_value
                == result.outgoing_cost + result.closing.value + result.variance)
        assert result.closing.quantity == (opening.quantity + result.totals.incoming_quantity
                                           - result.totals.outgoing_quantity)
        opening = result.closing


def test_a_receipt_and_its_reversal_cancel_in_every_method() -> None:
    moves = [Move(D(10), D("3.5"), "a"), Move(D(4), D("9.99"), "b"), Move(D(-4), D("9.99"), "c", reverses_id="b")]
    assert moving_average(moves).closing.value == D("35.00")
    closing = fifo(moves).closing
    assert closing.value == D("35.00") and [layer.source_id for layer in closing.layers] == ["a"]
    (month,) = monthly_weighted([moves])
    assert month.closing.value == D("35.00") and month.rate == D("3.5")


def test_fifo_consumes_the_oldest_layer_first() -> None:
    result = fifo([Move(D(5), D(2), "a"), Move(D(5), D(4), "b"), Move(D(-7), None, "c")])
    assert result.valued[-1].value == D("-18.00")  # 5 x 2 + 2 x 4
    assert result.closing.layers == (Layer("b", D(3), D("12.00"), D(4)),)


def test_negative_stock_is_booked_at_the_last_cost_and_settled_by_the_next_receipt() -> None:
    moves = [Move(D(2), D(10), "a"), Move(D(-5), None, "b"), Move(D(10), D(12), "c")]
    result = moving_average(moves)
    assert result.valued[1].value == D("-50.00")  # 2 on hand at 10, 3 beyond at the last cost 10
    assert result.closing == Position(D(7), D("84.00"), D(12))
    assert result.valued[2].variance == D("6.00")  # 3 short booked at 10 really cost 12
    assert fifo(moves).closing.value == D("84.00")


def test_costless_incoming_comes_in_at_the_average() -> None:
    result = moving_average([Move(D(3), D(1), "a"), Move(D(1), D(5), "b"), Move(D(2), None, "c")])
    assert result.valued[-1].value == D("4.00")  # the average was 2
    assert result.closing.unit_cost == D(2)


def test_month_with_an_opening_deficit_settles_it_at_the_month_rate() -> None:
    opening = Position(D(-4), D("-40.00"), D(10))
    result = close_month(opening, MonthTotals(D(10), D("120.00"), D(0)))
    assert result.rate == D(12)
    assert result.closing == Position(D(6), D("72.00"), D(12))
    assert result.variance == D("8.00")


def test_names_with_supplementary_characters_are_just_ids() -> None:
    result = fifo([Move(D(1), D(1), "𠮷-收货-1"), Move(D(-1), D(1), "𠮷-冲销", reverses_id="𠮷-收货-1")])
    assert result.closing == Position(D(0), D("0.00"), D(1))

