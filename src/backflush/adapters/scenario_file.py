"""Read a scenario file (YAML or JSON, ``format: 1``) into a :class:`Scenario`.

Every problem is collected, not just the first, each naming the file, the entry (item code or
event index), the field and, for YAML, the line. Numbers are read from their text straight
into Decimal: YAML's ``5.10`` never becomes a binary float.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from backflush.domain.bom import BomLine, Boms, BomVersion
from backflush.domain.costing import MasterData, check_master_data
from backflush.domain.errors import BackflushError, Problem, ValidationError
from backflush.domain.events import (
    EVENT_TYPES,
    Close,
    Completion,
    ConversionIncurred,
    CostChange,
    Count,
    Event,
    Receipt,
    Release,
    Reversal,
    Sale,
    Scrap,
    Transfer,
    period_bounds,
    period_of,
)
from backflush.domain.items import Item
from backflush.domain.numbers import MINOR_UNITS, to_decimal
from backflush.domain.opening import Opening, OpeningStock
from backflush.domain.policy import (
    DEFAULT_ACCOUNTS,
    FAMILIES,
    ConversionMode,
    Disposition,
    Journal,
    Method,
    NegativeStock,
    Policy,
    Role,
    Stage,
)
from backflush.domain.routing import Operation, WorkCenter, predetermined_rate
from backflush.service_layer.scenario import Scenario

FORMAT = 1
FIRST_DAY = date(1900, 1, 1)
TOP_KEYS = {"format", "name", "description", "currency", "minor_unit", "policy", "items", "boms",
            "work_centers", "routings", "opening", "events"}

# type -> (required fields, optional fields); "type" and "id" are allowed everywhere.
EVENT_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "receipt": ({"date", "item", "qty", "unit_price"}, {"supplier", "location"}),
    "conversion_incurred": ({"date", "amount"}, {"element", "credit"}),
    "completion": ({"date", "item", "qty"},
                   {"scrap_qty", "hours", "location", "output_location", "order"}),
    "scrap": ({"date", "item", "qty"}, {"reason", "location"}),
    "sale": ({"date", "item", "qty"}, {"unit_price", "customer", "location"}),
    "transfer": ({"date", "item", "qty", "from", "to"}, set()),
    "count": ({"date", "item", "qty"}, {"location"}),
    "release": ({"date", "item", "qty"}, {"due"}),
    "reversal": ({"date", "of"}, {"reason"}),
    "cost_change": ({"date", "item"}, {"standard_cost", "conversion_cost"}),
    "close": ({"period"}, {"date"}),
}


class _LineDict(dict[str, Any]):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    """Safe YAML with exact decimals and line numbers on every mapping."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    return Decimal(text)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    """A date, or its text when it is no date (2026-13-02): the reader then says so."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def parse_text(text: str, source: str, suffix: str = ".yaml") -> Any:
    """The document as Python data; ValidationError naming the line when malformed."""
    if suffix.lower() == ".json":
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ValidationError([Problem("document", None, f"malformed JSON: {exc.msg}",
                                           source, exc.lineno)]) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ValidationError([Problem("document", None, f"malformed YAML: {message}",
                                       source, line)]) from None
    except yaml.YAMLError as exc:
        raise ValidationError([Problem("document", None, f"malformed YAML: {exc}",
                                       source)]) from None


def load_scenario(path: str | Path, *, method: Method = Method.BACKFLUSH) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError([Problem("file", None, f"cannot read: {exc.strerror}",
                                       str(path))]) from None
    return scenario_from_text(text, str(path), path.suffix, method=method)


def scenario_from_text(text: str, source: str = "<scenario>", suffix: str = ".yaml", *,
                       method: Method = Method.BACKFLUSH) -> Scenario:
    return _Reader(source, method).read(parse_text(text, source, suffix))


class _Reader:
    def __init__(self, source: str, method: Method) -> None:
        self.source = source
        self.method = method
        self.problems: list[Problem] = []

    # ---------------------------------------------------------------- helpers
    def problem(self, entry: str, field: str | None, message: str, node: object = None) -> None:
        line = getattr(node, "line", None)
        self.problems.append(Problem(entry, field, message, self.source, line))

    def mapping(self, value: object, entry: str, node: object = None) -> Mapping[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(entry, None, f"expected a mapping, got {_kind(value)}", node)
            return None
        return value

    def keys(self, raw: Mapping[str, Any], entry: str, allowed: set[str]) -> None:
        for key in raw:
            if key not in allowed:
                self.problem(entry, str(key), f"unknown field; expected one of "
                             f"{', '.join(sorted(allowed))}", raw)

    def number(self, raw: Mapping[str, Any], key: str, entry: str, *, required: bool = True,
               positive: bool = False, non_negative: bool = False) -> Decimal | None:
        if key not in raw or raw[key] is None:
            if required:
                self.problem(entry, key, "is required", raw)
            return None
        value = raw[key]
        try:
            number = to_decimal(value, key)
        except BackflushError:
            self.problem(entry, key, f"{value!r} is not a decimal number", raw)
            return None
        if positive and number <= 0:
            self.problem(entry, key, f"must be positive, got {number}", raw)
            return None
        if non_negative and number < 0:
            self.problem(entry, key, f"must not be negative, got {number}", raw)
            return None
        return number

    def text(self, raw: Mapping[str, Any], key: str, entry: str, *, required: bool = True,
             default: str | None = None) -> str | None:
        if key not in raw or raw[key] is None:
            if required:
                self.problem(entry, key, "is required", raw)
            return default
        value = raw[key]
        if isinstance(value, (bool, dict, list)):
            self.problem(entry, key, f"expected text, got {_kind(value)}", raw)
            return default
        return str(value)

    def day(self, raw: Mapping[str, Any], key: str, entry: str, *,
            required: bool = True) -> date | None:
        if key not in raw or raw[key] is None:
            if required:
                self.problem(entry, key, "is required", raw)
            return None
        value = raw[key]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problem(entry, key, f"{value!r} is not a date (YYYY-MM-DD)", raw)
            return None

    def flag(self, raw: Mapping[str, Any], key: str, entry: str) -> bool | None:
        if key not in raw or raw[key] is None:
            return None
        if not isinstance(raw[key], bool):
            self.problem(entry, key, f"expected true or false, got {raw[key]!r}", raw)
            return None
        return bool(raw[key])

    def choice(self, value: object, entry: str, field: str, options: list[str],
               node: object) -> str | None:
        if value not in options:
            self.problem(entry, field, f"{value!r} is not one of {', '.join(options)}", node)
            return None
        return str(value)

    def coded(self, rows: list[Any], section: str, label: str, allowed: set[str]
              ) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """(entry, code, row) for each row of a list keyed by ``code``; unknown keys reported."""
        for i, row in enumerate(rows):
            data = self.mapping(row, f"{section}[{i}]")
            if data is None:
                continue
            code = self.text(data, "code", f"{section}[{i}]")
            if code is None:
                continue
            self.keys(data, f"{label} {code}", allowed)
            yield f"{label} {code}", code, data

    # ---------------------------------------------------------------- the document
    def read(self, doc: Any) -> Scenario:
        top = self.mapping(doc, "document")
        if top is None:
            raise ValidationError(self.problems)
        self.keys(top, "document", TOP_KEYS)
        if top.get("format") != FORMAT:
            self.problem("document", "format", f"expected format: {FORMAT}, got "
                         f"{top.get('format')!r}", top)
        currency = str(top.get("currency", "USD")).upper()
        minor = top.get("minor_unit")
        if minor is None:
            if currency not in MINOR_UNITS:
                self.problem("document", "currency", f"unknown currency {currency!r}; give "
                             "minor_unit (digits after the decimal point)", top)
            minor = MINOR_UNITS.get(currency, 2)
        elif not isinstance(minor, int) or isinstance(minor, bool) or not 0 <= minor <= 6:
            self.problem("document", "minor_unit", "expected a whole number from 0 to 6", top)
            minor = 2
        policy = self.policy(top.get("policy") or {}, currency, int(minor))
        boms_raw = top.get("boms") or {}
        routings_raw = top.get("routings") or {}
        items = self.items(top.get("items"), boms_raw, routings_raw)
        boms = self.boms(boms_raw)
        work_centers = self.work_centers(top.get("work_centers") or [])
        routings = self.routings(routings_raw)
        master = MasterData(items, Boms.of(boms), work_centers, routings)
        if not self.problems:
            self.master_data(master)
        events, locations = self.events(top.get("events") or [], master)
        first = min((e.date for e in events), default=None)
        as_of = first.replace(day=1) if first else FIRST_DAY
        opening = self.opening(top.get("opening"), as_of)
        if self.problems:
            raise ValidationError(self.problems)
        return Scenario(str(top.get("name", "")), policy, master, tuple(events), as_of,
                        opening, self.source, locations)

    def master_data(self, master: MasterData) -> None:
        """The core's own checks of the master data, located in this file."""
        try:
            check_master_data(master)
        except ValidationError as exc:
            for p in exc.problems:
                self.problem(p.entry, p.field, p.message)

    def policy(self, raw: Any, currency: str, minor: int) -> Policy:
        entry = "policy"
        data = self.mapping(raw, entry) or {}
        self.keys(data, entry, {"trigger_points", "conversion", "disposition", "negative_stock",
                                "accounts", "count_tolerance", "journal"})
        triggers: set[Stage] = {Stage.SALE}
        tp = data.get("trigger_points", ["purchase", "completion", "sale"])
        if not isinstance(tp, list):
            self.problem(entry, "trigger_points", "expected a list such as [purchase, sale]", data)
            tp = []
        for value in tp:
            name = self.choice(value, entry, "trigger_points", [s.value for s in Stage], data)
            if name:
                triggers.add(Stage(name))
        conversion = self.choice(data.get("conversion", "inventoried"), entry, "conversion",
                                 [m.value for m in ConversionMode], data) or "inventoried"
        disp_raw = data.get("disposition", "write_off")
        disposition: dict[str, Disposition] = {}
        options = [d.value for d in Disposition]
        if isinstance(disp_raw, dict):
            for family, value in disp_raw.items():
                if family not in FAMILIES:
                    self.problem(entry, f"disposition.{family}", "unknown variance family; "
                                 f"expected one of {', '.join(FAMILIES)}", data)
                    continue
                chosen = self.choice(value, entry, f"disposition.{family}", options, data)
                if chosen:
                    disposition[family] = Disposition(chosen)
        else:
            chosen = self.choice(disp_raw, entry, "disposition", options, data)
            if chosen:
                disposition = dict.fromkeys(FAMILIES, Disposition(chosen))
        if disposition.get("conversion") is Disposition.KEEP:
            self.problem(entry, "disposition", "conversion variances are written off or "
                         "prorated at close; 'keep' is for material variances only "
                         "(give a mapping per family)", data)
            disposition["conversion"] = Disposition.WRITE_OFF
        negative = self.choice(data.get("negative_stock", "allow"), entry, "negative_stock",
                               [n.value for n in NegativeStock], data) or "allow"
        accounts: dict[Role, str] = {}
        acc_raw = data.get("accounts") or {}
        if not isinstance(acc_raw, dict):
            self.problem(entry, "accounts", "expected a mapping of role: account name", data)
            acc_raw = {}
        roles = {r.value: r for r in DEFAULT_ACCOUNTS}
        for role, name in acc_raw.items():
            if role not in roles:
                self.problem(entry, f"accounts.{role}", "unknown account role; expected one "
                             f"of {', '.join(sorted(roles))}", acc_raw)
            elif not isinstance(name, str) or not name.strip():
                self.problem(entry, f"accounts.{role}", "expected an account name", acc_raw)
            else:
                accounts[roles[role]] = name.strip()
        tolerance = self.number(data, "count_tolerance", entry, required=False,
                                non_negative=True)
        journal = self.choice(data.get("journal", "per_event"), entry, "journal",
                              [j.value for j in Journal], data) or "per_event"
        policy = Policy(frozenset(triggers), ConversionMode(conversion), disposition,
                        NegativeStock(negative), accounts, self.method, minor, currency,
                        journal=Journal(journal))
        return policy if tolerance is None else replace(policy, count_tolerance=tolerance)

    def items(self, raw: Any, boms: Any, routings: Any) -> dict[str, Item]:
        items: dict[str, Item] = {}
        if not isinstance(raw, list) or not raw:
            self.problem("items", None, "expected a non-empty list of items", raw)
            return items
        allowed = {"code", "uom", "standard_cost", "conversion_cost", "phantom", "finished",
                   "type", "description"}
        bom_parents = set(boms) if isinstance(boms, dict) else set()
        routed = set(routings) if isinstance(routings, dict) else set()
        for entry, code, data in self.coded(raw, "items", "item", allowed):
            if code in items:
                self.problem(entry, "code", "appears twice", data)
                continue
            std = self.number(data, "standard_cost", entry, required=False, non_negative=True)
            conv = self.number(data, "conversion_cost", entry, required=False,
                               non_negative=True)
            phantom = self.flag(data, "phantom", entry) or False
            kind = data.get("type")
            if kind is not None:
                kind = self.choice(kind, entry, "type", ["purchased", "made"], data)
                made = kind == "made"
            else:
                made = phantom or conv is not None or code in bom_parents or code in routed
            items[code] = Item(code, self.text(data, "uom", entry, required=False,
                                               default="ea") or "ea",
                               std, conv, phantom, self.flag(data, "finished", entry), made,
                               self.text(data, "description", entry, required=False,
                                         default="") or "")
        return items

    def boms(self, raw: Any) -> list[BomVersion]:
        out: list[BomVersion] = []
        if not isinstance(raw, dict):
            self.problem("boms", None, "expected a mapping of parent item: lines", raw)
            return out
        for parent, spec in raw.items():
            entry = f"bom {parent}"
            if isinstance(spec, list):
                out.append(BomVersion(str(parent), 1, FIRST_DAY,
                                      self.bom_lines(spec, f"{entry}@v1")))
                continue
            data = self.mapping(spec, entry, raw)
            if data is None:
                continue
            self.keys(data, entry, {"versions"})
            versions = data.get("versions")
            if not isinstance(versions, list) or not versions:
                self.problem(entry, "versions", "expected a list of versions", data)
                continue
            for j, v in enumerate(versions):
                ventry = f"{entry} versions[{j}]"
                vd = self.mapping(v, ventry, data)
                if vd is None:
                    continue
                self.keys(vd, ventry, {"version", "effective", "lines"})
                number = vd.get("version", j + 1)
                if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                    self.problem(ventry, "version", "expected a positive whole number", vd)
                    number = j + 1
                eff = self.day(vd, "effective", ventry, required=False) or FIRST_DAY
                lines = vd.get("lines")
                if not isinstance(lines, list):
                    self.problem(ventry, "lines", "expected a list of BOM lines", vd)
                    continue
                out.append(BomVersion(str(parent), number, eff,
                                      self.bom_lines(lines, f"bom {parent}@v{number}")))
        return out

    def bom_lines(self, rows: list[Any], entry: str) -> tuple[BomLine, ...]:
        lines = []
        for k, row in enumerate(rows):
            lentry = f"{entry} line {k + 1}"
            data = self.mapping(row, lentry)
            if data is None:
                continue
            self.keys(data, lentry, {"item", "qty", "scrap"})
            comp = self.text(data, "item", lentry)
            qty = self.number(data, "qty", lentry, positive=True)
            scrap = self.number(data, "scrap", lentry, required=False, non_negative=True)
            if scrap is not None and scrap >= 1:
                self.problem(lentry, "scrap", "a scrap factor is a fraction below 1 "
                             "(0.02 for 2 %)", data)
                continue
            if comp is not None and qty is not None:
                lines.append(BomLine(comp, qty, scrap if scrap is not None else Decimal(0)))
        return tuple(lines)

    def work_centers(self, raw: Any) -> dict[str, WorkCenter]:
        out: dict[str, WorkCenter] = {}
        if not isinstance(raw, list):
            self.problem("work_centers", None, "expected a list of work centers", raw)
            return out
        for entry, code, data in self.coded(raw, "work_centers", "work center",
                                            {"code", "rate", "labor_rate", "overhead_rate",
                                             "budget", "description"}):
            rates = {k: self.number(data, k, entry, required=False, non_negative=True)
                     for k in ("rate", "labor_rate", "overhead_rate")}
            budget = data.get("budget")
            if budget is not None:
                bd = self.mapping(budget, entry, data) or {}
                self.keys(bd, f"{entry} budget", {"labor", "overhead", "conversion", "hours"})
                hours = self.number(bd, "hours", f"{entry} budget", positive=True)
                if hours is not None:
                    for key, rate_key in (("labor", "labor_rate"), ("overhead", "overhead_rate"),
                                          ("conversion", "rate")):
                        cost = self.number(bd, key, f"{entry} budget", required=False,
                                           non_negative=True)
                        if cost is not None:
                            if rates[rate_key] is not None:
                                self.problem(entry, rate_key, "given both as a rate and as "
                                             "a budget", data)
                            rates[rate_key] = predetermined_rate(cost, hours)
            if all(v is None for v in rates.values()):
                self.problem(entry, "rate", "give rate, or labor_rate and overhead_rate, "
                             "or a budget", data)
                continue
            zero = Decimal(0)
            if code in out:
                self.problem(entry, "code", "appears twice", data)
            out[code] = WorkCenter(code, rates["labor_rate"] or zero,
                                   rates["overhead_rate"] or zero, rates["rate"] or zero)
        return out

    def routings(self, raw: Any) -> dict[str, tuple[Operation, ...]]:
        out: dict[str, tuple[Operation, ...]] = {}
        if not isinstance(raw, dict):
            self.problem("routings", None, "expected a mapping of item: operations", raw)
            return out
        for code, ops in raw.items():
            entry = f"routing {code}"
            if not isinstance(ops, list):
                self.problem(entry, None, "expected a list of operations", raw)
                continue
            parsed = []
            for k, row in enumerate(ops):
                oentry = f"{entry} operation {k + 1}"
                data = self.mapping(row, oentry)
                if data is None:
                    continue
                self.keys(data, oentry, {"operation", "work_center", "run_hours", "setup_hours",
                                         "lot_size", "description"})
                wc = self.text(data, "work_center", oentry)
                run = self.number(data, "run_hours", oentry, required=False, non_negative=True)
                setup = self.number(data, "setup_hours", oentry, required=False,
                                    non_negative=True)
                lot = self.number(data, "lot_size", oentry, required=False, positive=True)
                number = data.get("operation", (k + 1) * 10)
                if wc is not None:
                    parsed.append(Operation(int(number) if isinstance(number, int) else k,
                                            wc, run or Decimal(0), setup or Decimal(0),
                                            lot or Decimal(1)))
            out[str(code)] = tuple(parsed)
        return out

    def opening(self, raw: Any, as_of: date) -> Opening | None:
        if raw is None:
            return None
        data = self.mapping(raw, "opening")
        if data is None:
            return None
        self.keys(data, "opening", {"stock", "balances"})
        stock = []
        for i, row in enumerate(data.get("stock") or []):
            entry = f"opening.stock[{i}]"
            rd = self.mapping(row, entry)
            if rd is None:
                continue
            self.keys(rd, entry, {"item", "qty", "location"})
            item = self.text(rd, "item", entry)
            qty = self.number(rd, "qty", entry, non_negative=True)
            loc = self.text(rd, "location", entry, required=False, default="stores")
            if item is not None and qty is not None:
                stock.append(OpeningStock(item, qty, loc or "stores"))
        balances: dict[str, Decimal] = {}
        braw = data.get("balances") or {}
        if not isinstance(braw, dict):
            self.problem("opening", "balances", "expected a mapping of account: amount", data)
        else:
            for name in braw:
                amount = self.number(braw, name, "opening.balances")
                if amount is not None:
                    balances[str(name)] = amount
        when = as_of if as_of == FIRST_DAY else as_of.fromordinal(as_of.toordinal() - 1)
        return Opening(id="opening", date=when, stock=tuple(stock), balances=balances)

    # ---------------------------------------------------------------- events
    def events(self, raw: Any, master: MasterData, *, check_references: bool = True
               ) -> tuple[list[Event], dict[str, tuple[str, int | None]]]:
        events: list[Event] = []
        locations: dict[str, tuple[str, int | None]] = {}
        if not isinstance(raw, list):
            self.problem("events", None, "expected a list of events", raw)
            return events, locations
        seen: dict[str, tuple[str, str]] = {}  # id -> (hash, entry)
        closed: list[tuple[date, str]] = []
        for i, row in enumerate(raw):
            entry = f"events[{i}]"
            data = self.mapping(row, entry)
            if data is None:
                continue
            if data.get("id") is not None:
                entry = f"{entry} ({data['id']})"
            before = len(self.problems)
            event = self.event(data, entry, i, master, locations)
            if event is None or len(self.problems) > before:
                continue
            for end, by in closed:
                if event.type != "close" and event.date <= end:
                    self.problem(entry, "date", f"{event.date} is in a period closed by {by}; "
                                 "post corrections in the open period", data)
            if check_references and isinstance(event, Reversal) and event.of not in seen:
                self.problem(entry, "of", f"no earlier event has id '{event.of}'", data)
            digest = event.content_hash()
            if event.id in seen:
                if seen[event.id][0] != digest:
                    self.problem(entry, "id", f"id '{event.id}' was used by {seen[event.id][1]} "
                                 "with different content", data)
                continue
            seen[event.id] = (digest, entry)
            locations[event.id] = (entry, getattr(data, "line", None))
            if isinstance(event, Close):
                closed.append((period_bounds(event.period)[1], entry))
            events.append(event)
        return events, locations

    def event(self, data: Mapping[str, Any], entry: str, index: int, master: MasterData,
              locations: dict[str, tuple[str, int | None]]) -> Event | None:
        kind = str(data.get("type"))
        if kind not in EVENT_TYPES:
            self.problem(entry, "type", f"unknown event type {kind!r}; expected one of "
                         f"{', '.join(EVENT_TYPES)}", data)
            return None
        required, optional = EVENT_FIELDS[kind]
        self.keys(data, entry, required | optional | {"type", "id"})
        for key in sorted(required):
            if key not in data or data[key] is None:
                self.problem(entry, key, "is required", data)
        ident = self.text(data, "id", entry, required=False) or f"#{index + 1}"
        builders: dict[str, Callable[[], Event | None]] = {
            "receipt": lambda: self._receipt(data, entry, ident, master),
            "conversion_incurred": lambda: self._conversion(data, entry, ident),
            "completion": lambda: self._completion(data, entry, ident, master),
            "scrap": lambda: self._simple(Scrap, data, entry, ident, master, ("reason",)),
            "sale": lambda: self._sale(data, entry, ident, master),
            "transfer": lambda: self._transfer(data, entry, ident, master),
            "count": lambda: self._simple(Count, data, entry, ident, master, (), zero_ok=True),
            "release": lambda: self._release(data, entry, ident, master),
            "reversal": lambda: self._reversal(data, entry, ident),
            "cost_change": lambda: self._cost_change(data, entry, ident, master),
            "close": lambda: self._close(data, entry, ident),
        }
        try:
            return builders[kind]()
        except BackflushError as exc:
            self.problem(entry, None, str(exc), data)
            return None

    def _item(self, data: Mapping[str, Any], entry: str, master: MasterData, *,
              made: bool | None = None, stocked: bool = True) -> str | None:
        code = self.text(data, "item", entry, required=False)
        if code is None:
            return None
        item = master.items.get(code)
        if item is None:
            self.problem(entry, "item", f"unknown item '{code}'", data)
            return None
        if stocked and item.phantom:
            self.problem(entry, "item", f"'{code}' is a phantom: it is never stocked", data)
        elif made is True and not item.made:
            self.problem(entry, "item", f"'{code}' is a purchased item, not a made one", data)
        elif made is False and item.made:
            self.problem(entry, "item", f"'{code}' is a made item; report a completion", data)
        return code

    def _date(self, data: Mapping[str, Any], entry: str) -> date | None:
        return self.day(data, "date", entry, required=False)

    def _receipt(self, data: Mapping[str, Any], entry: str, ident: str,
                 master: MasterData) -> Event | None:
        item = self._item(data, entry, master, made=False)
        qty = self.number(data, "qty", entry, required=False, positive=True)
        price = self.number(data, "unit_price", entry, required=False, non_negative=True)
        when = self._date(data, entry)
        if None in (item, qty, price, when):
            return None
        return Receipt(id=ident, date=when, item=item, qty=qty, unit_price=price,  # type: ignore[arg-type]
                       supplier=self.text(data, "supplier", entry, required=False,
                                          default="") or "",
                       location=self.text(data, "location", entry, required=False,
                                          default="stores") or "stores")

    def _conversion(self, data: Mapping[str, Any], entry: str, ident: str) -> Event | None:
        amount = self.number(data, "amount", entry, required=False, positive=True)
        when = self._date(data, entry)
        element = data.get("element", "conversion")
        if self.choice(element, entry, "element", ["labor", "overhead", "conversion"],
                       data) is None:
            return None
        if amount is None or when is None:
            return None
        return ConversionIncurred(id=ident, date=when, amount=amount, element=str(element),
                                  credit=self.text(data, "credit", entry, required=False))

    def _completion(self, data: Mapping[str, Any], entry: str, ident: str,
                    master: MasterData) -> Event | None:
        item = self._item(data, entry, master, made=True)
        qty = self.number(data, "qty", entry, required=False, non_negative=True)
        scrap = self.number(data, "scrap_qty", entry, required=False, non_negative=True)
        when = self._date(data, entry)
        hours: list[tuple[str, Decimal]] = []
        raw_hours = data.get("hours")
        if raw_hours is not None:
            hd = self.mapping(raw_hours, entry, data) or {}
            for wc in hd:
                if wc not in master.work_centers:
                    self.problem(entry, f"hours.{wc}", f"unknown work center '{wc}'", data)
                    continue
                h = self.number(hd, wc, entry, non_negative=True)
                if h is not None:
                    hours.append((str(wc), h))
        if None in (item, qty, when):
            return None
        assert qty is not None
        if qty + (scrap or 0) <= 0:
            self.problem(entry, "qty", "qty + scrap_qty must be positive", data)
            return None
        return Completion(id=ident, date=when, item=item, qty=qty,  # type: ignore[arg-type]
                          scrap_qty=scrap or Decimal(0), hours=tuple(hours),
                          location=self.text(data, "location", entry, required=False,
                                             default="stores") or "stores",
                          output_location=self.text(data, "output_location", entry,
                                                    required=False),
                          order=self.text(data, "order", entry, required=False, default="") or "")

    def _simple(self, cls: type[Event], data: Mapping[str, Any], entry: str, ident: str,
                master: MasterData, extra: tuple[str, ...], *,
                zero_ok: bool = False) -> Event | None:
        item = self._item(data, entry, master)
        qty = self.number(data, "qty", entry, required=False, positive=not zero_ok,
                          non_negative=zero_ok)
        when = self._date(data, entry)
        if None in (item, qty, when):
            return None
        kwargs = {k: self.text(data, k, entry, required=False, default="") or "" for k in extra}
        loc = self.text(data, "location", entry, required=False, default="stores") or "stores"
        return cls(id=ident, date=when, item=item, qty=qty, location=loc,  # type: ignore[call-arg, arg-type]
                   **kwargs)

    def _sale(self, data: Mapping[str, Any], entry: str, ident: str,
              master: MasterData) -> Event | None:
        item = self._item(data, entry, master)
        qty = self.number(data, "qty", entry, required=False, positive=True)
        price = self.number(data, "unit_price", entry, required=False, non_negative=True)
        when = self._date(data, entry)
        if None in (item, qty, when):
            return None
        return Sale(id=ident, date=when, item=item, qty=qty, unit_price=price,  # type: ignore[arg-type]
                    customer=self.text(data, "customer", entry, required=False,
                                       default="") or "",
                    location=self.text(data, "location", entry, required=False,
                                       default="stores") or "stores")

    def _transfer(self, data: Mapping[str, Any], entry: str, ident: str,
                  master: MasterData) -> Event | None:
        item = self._item(data, entry, master)
        qty = self.number(data, "qty", entry, required=False, positive=True)
        when = self._date(data, entry)
        src = self.text(data, "from", entry, required=False)
        dst = self.text(data, "to", entry, required=False)
        if None in (item, qty, when, src, dst):
            return None
        if src == dst:
            self.problem(entry, "to", "a transfer needs two different locations", data)
            return None
        return Transfer(id=ident, date=when, item=item, qty=qty,  # type: ignore[arg-type]
                        from_location=src, to_location=dst)  # type: ignore[arg-type]

    def _release(self, data: Mapping[str, Any], entry: str, ident: str,
                 master: MasterData) -> Event | None:
        item = self._item(data, entry, master, made=True)
        qty = self.number(data, "qty", entry, required=False, positive=True)
        when = self._date(data, entry)
        due = self.day(data, "due", entry, required=False)
        if None in (item, qty, when):
            return None
        return Release(id=ident, date=when, item=item, qty=qty, due=due)  # type: ignore[arg-type]

    def _reversal(self, data: Mapping[str, Any], entry: str, ident: str) -> Event | None:
        of = self.text(data, "of", entry, required=False)
        when = self._date(data, entry)
        if of is None or when is None:
            return None
        return Reversal(id=ident, date=when, of=of)

    def _cost_change(self, data: Mapping[str, Any], entry: str, ident: str,
                     master: MasterData) -> Event | None:
        item = self._item(data, entry, master, stocked=False)
        std = self.number(data, "standard_cost", entry, required=False, non_negative=True)
        conv = self.number(data, "conversion_cost", entry, required=False, non_negative=True)
        when = self._date(data, entry)
        if (std is None) == (conv is None):
            self.problem(entry, "standard_cost", "give exactly one of standard_cost and "
                         "conversion_cost", data)
            return None
        if item is None or when is None:
            return None
        return CostChange(id=ident, date=when, item=item, standard_cost=std,
                          conversion_cost=conv)

    def _close(self, data: Mapping[str, Any], entry: str, ident: str) -> Event | None:
        period = self.text(data, "period", entry, required=False)
        if period is None:
            return None
        if isinstance(data.get("period"), date):
            period = period_of(data["period"])
        try:
            _, end = period_bounds(period)
        except ValueError as exc:
            self.problem(entry, "period", str(exc), data)
            return None
        ident = str(data["id"]) if "id" in data else f"close-{period}"
        return Close(id=ident, date=end, period=period)


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__)
