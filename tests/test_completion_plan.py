"""A completion's plan (what it relieves whatever the stock) is worked out once per item,
quantity and BOM versions in effect, and kept on the books for the next completion like it.
Reusing it must change nothing: the same postings as working it out afresh, and a new plan
as soon as another BOM version (the parent's or a phantom's) is in effect."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from backflush.adapters.memory import InMemoryUnitOfWork
from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import MasterData
from backflush.domain.errors import BackflushError
from backflush.domain.events import Completion, Event
from backflush.domain.items import Item
from backflush.domain.policy import NegativeStock, Policy
from backflush.domain.posting import Context, Posting, post
from backflush.service_layer import services
from tests.test_properties import SETTINGS, Plant, plants, policies, streams

START = date(2026, 11, 1)


def _outcome(ctx: Context, event: Event) -> Posting | str:
    try:
        return post(ctx, event)
    except BackflushError as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(SETTINGS, max_examples=150)
@given(data=st.data(), plant=plants(), policy=policies())
def test_a_kept_plan_posts_what_a_fresh_one_posts(data: st.DataObject, plant: Plant,
                                                   policy: Policy) -> None:
    events = data.draw(streams(plant))
    uow = InMemoryUnitOfWork()
    services.set_up_ledger(uow, plant.master, policy, as_of=START)
    for event in events:
        with uow:
            ledger = uow.ledger
            ctx = Context(ledger.master, ledger.policy, ledger.costs, ledger)
            warm = _outcome(ctx, event)
            ctx.books.memo.clear()  # the same books, nothing kept: every plan afresh
            fresh = _outcome(Context(ledger.master, ledger.policy, ledger.costs, ledger), event)
            assert warm == fresh
        with contextlib.suppress(BackflushError):  # refused: the ledger stays as it was
            services.post_events(uow, [event])


def _master(*versions: BomVersion) -> MasterData:
    items = {code: Item(code, standard_cost=D(cost)) for code, cost in
             (("P1", "1.00"), ("P2", "2.50"), ("P3", "0.40"))}
    if any(v.parent == "PH" for v in versions):
        items["PH"] = Item("PH", made=True, phantom=True)
    items["M1"] = Item("M1", made=True, conversion_cost=D("3.00"))
    return MasterData(items, Boms.of(versions))


def _components(posting: Posting) -> dict[str, D]:
    return {m.item: m.qty for m in posting.moves if m.kind == "backflush"}


def _post_both(master: MasterData, events: list[Completion]) -> list[Posting]:
    uow = InMemoryUnitOfWork()
    services.set_up_ledger(uow, master, Policy(negative_stock=NegativeStock.ALLOW),
                           as_of=START)
    out = []
    with uow:
        ledger = uow.ledger
        for event in events:
            ctx = Context(ledger.master, ledger.policy, ledger.costs, ledger)
            out.append(post(ctx, event))
    return out


def test_a_phantom_s_new_version_makes_a_new_plan() -> None:
    """M1 has one version throughout; the phantom PH in it changes on the 15th."""
    master = _master(
        BomVersion("M1", 1, START, (BomLine("P1", D(1)), BomLine("PH", D(2)))),
        BomVersion("PH", 1, START, (BomLine("P2", D(1)),)),
        BomVersion("PH", 2, date(2026, 11, 15), (BomLine("P3", D(3)),)))
    before, after, again = _post_both(master, [
        Completion(id="W1", date=date(2026, 11, 2), item="M1", qty=D(1)),
        Completion(id="W2", date=date(2026, 11, 20), item="M1", qty=D(1)),
        Completion(id="W3", date=date(2026, 11, 3), item="M1", qty=D(1))])
    assert _components(before) == {"P1": D(-1), "P2": D(-2)}
    assert _components(after) == {"P1": D(-1), "P3": D(-6)}
    assert _components(again) == _components(before)
    assert [d.bom for d in after.entries[0].derivations if d.item == "P3"] == ["M1@v1"]
    assert any("PH@v2" in d.basis for d in after.entries[0].derivations if d.item == "P3")


def test_the_parent_s_new_version_makes_a_new_plan() -> None:
    master = _master(
        BomVersion("M1", 1, START, (BomLine("P1", D(1)),)),
        BomVersion("M1", 2, date(2026, 11, 15), (BomLine("P1", D(2)), BomLine("P2", D(1)))))
    before, after = _post_both(master, [
        Completion(id="W1", date=date(2026, 11, 2), item="M1", qty=D(4)),
        Completion(id="W2", date=date(2026, 11, 20), item="M1", qty=D(4))])
    assert _components(before) == {"P1": D(-4)}
    assert _components(after) == {"P1": D(-8), "P2": D(-4)}
    assert before.entries[0].bom == "M1@v1" and after.entries[0].bom == "M1@v2"


def test_the_same_quantity_written_otherwise_keeps_its_own_text() -> None:
    """4 and 4.0 are equal, but a plan's texts are written from the quantity as given."""
    master = _master(BomVersion("M1", 1, START, (BomLine("P1", D("1.5")),)))
    plain, tenths = _post_both(master, [
        Completion(id="W1", date=date(2026, 11, 2), item="M1", qty=D("4")),
        Completion(id="W2", date=date(2026, 11, 2), item="M1", qty=D("4.0"))])
    assert _components(plain) == _components(tenths) == {"P1": D(-6)}
    assert str(_components(plain)["P1"]) == "-6.0"
    assert str(_components(tenths)["P1"]) == "-6.00"
