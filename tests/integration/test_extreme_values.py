"""Huge and tiny quantities and prices (issue 19): refused, or posted exactly.

Receipts, completions, sales and cost changes of a small plant, with ordinary values mixed with
10**12 .. 10**40, 1E-7 .. 1E-40 and values at the limits of docs/limits.md (Decimal, int, text).
Each batch is EITHER refused (a BackflushError naming the field; nothing left behind) OR posted
(verify clean, every entry balanced, the trial balance zero). Modest values are never refused.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

import backflush as bf

START, DAY = date(2026, 11, 1), date(2026, 11, 2)
CHECK = Context(prec=200, traps=[Inexact, Rounded, InvalidOperation])  # our sums are exact
CENT, MAX = Decimal("0.01"), Decimal("999999999999.999999")  # MAX: 12 digits, 6 places
EDGES = [MAX, Decimal("1E+12"), Decimal("999999999999.9999999"), Decimal("0.000001"),
         Decimal("0.0000001"), Decimal("1E-20"), Decimal("0.000000000001"), Decimal("1E+11"),
         Decimal("100000000000.000000000000"), Decimal("1." + "0" * 60), Decimal("1E+1000"),
         Decimal("1E-1000"), Decimal("0E-50"), Decimal("-0"), Decimal(-1), Decimal("-1E-6")]
ORDINARY = st.decimals(min_value=CENT, max_value=10_000, places=2)


def fits(raw: Any, positive: bool = False) -> bool:
    """Our own reading of docs/limits.md: does the event have to accept this value?"""
    if isinstance(raw, int | str) and (abs(int(raw)) >= 10**40 if isinstance(raw, int)
                                       else len(raw) > 60):
        return False
    value = Decimal(raw)
    if len(value.as_tuple().digits) > 60 or value < 0 or (positive and value == 0):
        return False
    exponent = value.normalize(CHECK).as_tuple().exponent
    assert isinstance(exponent, int)
    return value == 0 or (value.adjusted() < 12 and -exponent <= 6)


BIG = [Decimal(10**k - d) for k in range(41) for d in (0, 1)]  # 10**k, and 99...9 below it
SMALL = [Decimal(1).scaleb(-k) for k in range(1, 41)]
INSIDE = st.one_of(ORDINARY, st.decimals(min_value=0, max_value=MAX, places=6),
                   st.sampled_from([v for v in BIG + SMALL + EDGES if fits(v)]))
OUTSIDE = st.sampled_from([v for v in BIG + SMALL + EDGES if not fits(v, positive=True)])
VALUES = st.one_of(INSIDE, INSIDE, INSIDE, OUTSIDE)
NUMBERS = VALUES.flatmap(lambda v: st.sampled_from(
    [v, str(v), *([int(v)] if v.adjusted() < 100 and v == v.to_integral_value() else [])]))
FIELDS = {"receipt": {"qty": True, "unit_price": False}, "completion": {"qty": True},
          "sale": {"qty": True, "unit_price": False}, "cost_part": {"standard_cost": False},
          "cost_made": {"conversion_cost": False}}  # field: must be positive


def modest(raw: Any) -> bool:
    return fits(raw) and Decimal(raw) <= 10_000


@dataclass
class Case:
    cost: Decimal
    per: Decimal
    scrap: Decimal
    policy: bf.Policy
    batches: list[list[tuple[str, dict[str, Any]]]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    plant = st.one_of(ORDINARY, st.sampled_from([v for v in EDGES if fits(v, positive=True)]))
    kinds = draw(st.lists(st.sampled_from(list(FIELDS)), min_size=1, max_size=8))
    specs = [(kind, {name: draw(NUMBERS) for name in FIELDS[kind]}) for kind in kinds]
    cuts = draw(st.sets(st.integers(1, 7), max_size=3)) & set(range(1, len(specs)))
    ends = sorted(cuts)
    batches = [specs[a:b] for a, b in zip([0, *ends], [*ends, len(specs)], strict=True)]
    triggers = draw(st.sampled_from([{bf.Stage.PURCHASE, bf.Stage.COMPLETION},
                                     {bf.Stage.PURCHASE}, {bf.Stage.COMPLETION}]))
    journal = draw(st.sampled_from([bf.Journal.PER_EVENT, bf.Journal.SUMMARY]))
    scrap = draw(st.sampled_from([Decimal(0), Decimal("0.05"), Decimal("0.999999")]))
    return Case(draw(plant), draw(plant), scrap,
                bf.Policy(triggers=frozenset(triggers), journal=journal), batches)


def build(n: int, kind: str, raw: dict[str, Any]) -> bf.Event:
    day = START + timedelta(days=1 + n // 4)
    if kind.startswith("cost"):
        return bf.CostChange(id=f"E{n}", date=day, item="P" if kind == "cost_part" else "M",
                             **raw)
    kinds: dict[str, Any] = {"receipt": bf.Receipt, "completion": bf.Completion, "sale": bf.Sale}
    return kinds[kind](id=f"E{n}", date=day, item="P" if kind == "receipt" else "M", **raw)


def state(ledger: bf.Ledger) -> tuple[object, ...]:
    with ledger.unit_of_work(read_only=True) as uow:
        return (tuple(bf.trial_balance(uow)), len(bf.journal(uow)),
                tuple((r.item, r.location, r.qty, r.value) for r in bf.stock_report(uow)))


def assert_names_a_field(exc: BaseException, fields: set[str]) -> None:
    if isinstance(exc, bf.ValidationError):
        assert exc.problems and all(p.field for p in exc.problems), exc
    elif isinstance(exc, bf.PostingError):
        assert exc.field and f"field '{exc.field}'" in str(exc), exc
    else:
        assert isinstance(exc, bf.NumberError), exc
        assert exc.field in (None, *fields) and str(exc).split(":")[0] in fields, exc


def post_checked(ledger: bf.Ledger, events: list[bf.Event], fields: set[str]) -> bool:
    """Post; True when posted (and the ledger is sound), False when refused."""
    before = state(ledger)
    try:
        bf.post_events(ledger.unit_of_work(), events)
    except bf.BackflushError as exc:
        assert_names_a_field(exc, fields)
        assert state(ledger) == before, "a refused batch left something behind"
        return False
    with ledger.unit_of_work(read_only=True) as uow, localcontext(CHECK):
        assert bf.verify(uow) == []
        summed: dict[str, Decimal] = {}
        for seq, entry in bf.journal(uow):
            assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines), seq
            for ln in entry.lines:
                assert ln.debit == ln.debit.quantize(CENT) and ln.credit == ln.credit.quantize(CENT)
                summed[ln.account] = summed.get(ln.account, Decimal(0)) + ln.debit - ln.credit
        balances = bf.trial_balance(uow)
        assert sum(b for _, b in balances) == 0
        assert dict(balances) == {a: b for a, b in summed.items() if b != 0}
    return True


def run(ledger: bf.Ledger, case: Case) -> list[bool | None]:
    """Each batch: posted (True), refused (False), or not built (None); asserts all of it."""
    items = {"P": bf.Item("P", standard_cost=case.cost),
             "M": bf.Item("M", conversion_cost=Decimal("0.37"), made=True)}
    boms = bf.Boms.of([bf.BomVersion("M", 1, START, (bf.BomLine("P", case.per, case.scrap),))])
    try:
        bf.set_up_ledger(ledger.unit_of_work(), bf.MasterData(items, boms), case.policy, START)
    except (bf.ValidationError, bf.NumberError) as exc:  # a rolled-up cost beyond 15 digits
        assert_names_a_field(exc, {"standard_cost"})
        return []
    calm = modest(case.cost) and modest(case.per)  # nothing big posted yet
    out: list[bool | None] = []
    for n0, batch in enumerate(case.batches):
        events, built = [], True
        for n, (kind, raw) in enumerate(batch, start=8 * n0):
            invalid = {f for f, positive in FIELDS[kind].items() if not fits(raw[f], positive)}
            try:
                events.append(build(n, kind, raw))
                assert not invalid, f"{kind} {raw} accepted, yet {invalid} break the limits"
            except bf.NumberError as exc:
                assert invalid, f"{kind} {raw} refused: {exc}"
                assert_names_a_field(exc, invalid)
                built = False
        usual = all(modest(v) for _, raw in batch for v in raw.values())
        posted = post_checked(ledger, events, {f for _, r in batch for f in r}) if built else None
        assert posted is not False or not (calm and usual), f"{batch} refused, all modest"
        if currently_in_test_context():  # (the statistics of --hypothesis-show-statistics)
            event({None: "not built", True: "posted", False: "refused"}[posted]
                  + ("" if calm else " after extreme values"))
        calm = calm and (usual or not posted)
        out.append(posted)
    return out


@settings(max_examples=60, deadline=None)
@given(case=cases())
def test_extreme_values_are_refused_or_balance_exactly_in_memory(case: Case) -> None:
    run(bf.memory_ledger(), case)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extreme") / "template.db"
    bf.create_ledger(f"sqlite:///{path}").close()  # the schema once (a second each)
    return path


def sqlite_ledger(template: Path, folder: Path) -> bf.Ledger:
    shutil.copyfile(template, folder / "ledger.db")
    return bf.open_ledger(f"sqlite:///{folder / 'ledger.db'}")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_extreme_values_are_refused_or_balance_exactly_on_sqlite(
        sqlite_template: Path, case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = sqlite_ledger(sqlite_template, Path(folder))
        try:
            run(ledger, case)
        finally:
            ledger.close()


@pytest.mark.parametrize(("field", "value", "says"), [
    ("qty", Decimal("1E+12"), "more than 12 digits before the decimal point"),
    ("qty", "999999999999.9999999", "more than 6 decimal places"),
    ("unit_price", 10**40, "far too large"), ("unit_price", Decimal("1E-20"), "more than 6")])
def test_a_value_just_beyond_the_limit_is_refused_naming_its_field(
        field: str, value: Any, says: str) -> None:
    with pytest.raises(bf.NumberError) as caught:
        bf.Receipt(id="R1", date=DAY, item="P", **{"qty": 1, "unit_price": 1, field: value})
    assert caught.value.field == field and str(caught.value).startswith(f"{field}:")
    assert says in str(caught.value)


def test_values_at_the_limit_are_accepted_and_balance_exactly() -> None:
    tiny = Decimal("0.000001")
    batches = [[("receipt", {"qty": MAX, "unit_price": Decimal("999.99")}),
                ("receipt", {"qty": tiny, "unit_price": MAX}), ("completion", {"qty": tiny}),
                ("sale", {"qty": tiny, "unit_price": MAX})],
               [("receipt", {"qty": MAX, "unit_price": MAX})],  # 10**24: beyond money's 15
               [("receipt", {"qty": Decimal(1), "unit_price": Decimal(1)})]]
    case = Case(Decimal("2.50"), Decimal(2), Decimal("0.05"), bf.Policy(), batches)
    assert run(bf.memory_ledger(), case) == [True, False, True]


PADDED, P35 = Decimal("1." + "0" * 50), Decimal("1." + "0" * 34)  # 1, in 51 and 35 digits


@pytest.mark.parametrize("case", [  # qty x price: 101 digits; qty x BOM qty x cost: 103
    Case(Decimal(1), Decimal(1), Decimal(0), bf.Policy(),
         [[("receipt", {"qty": PADDED, "unit_price": PADDED})]]),
    Case(P35, P35, Decimal(0), bf.Policy(), [[("completion", {"qty": P35})]])],
    ids=["receipt", "completion"])
def test_a_value_padded_with_zeros_is_posted_or_refused(case: Case) -> None:
    run(bf.memory_ledger(), case)


def test_two_cost_changes_in_one_batch_on_sqlite(sqlite_template: Path, tmp_path: Path) -> None:
    # The completion is posted at 2.37, so verify says: "Finished Goods Inventory: GL balance
    # 2.37 but the stock subledger values it at 3.37" (in memory: posted at 3.37).
    changes = [("cost_part", {"standard_cost": Decimal(n)}) for n in (2, 3)]
    ledger = sqlite_ledger(sqlite_template, tmp_path)
    try:
        run(ledger, Case(Decimal(1), Decimal(1), Decimal(0), bf.Policy(),
                         [changes, [("completion", {"qty": Decimal(1)})]]))
    finally:
        ledger.close()
