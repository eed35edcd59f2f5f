"""Read a scenario file (YAML or JSON, ``format: 1``) into a :class:`Scenario`.

The document is checked part by part with the models of :mod:`.schemas` (the ones
:class:`~.document.ScenarioDocument` is made of), so that every problem is found at once, each
naming the file, the entry (``item SEAT``, ``bom STOOL@v1 line 2``, ``events[3] (WO-1)``...),
the field and, for YAML, the line; the first :data:`~.limits.MAX_PROBLEMS` are listed, the
rest counted. Beyond the models, the reader checks what needs the whole file: master data by
the domain's own :func:`~backflush.domain.masterdata.check_master_data`, events against the
master data, an event dated in a period closed earlier in the file, a reversal of an id no
earlier event has, and an id used twice with different content. The same id with the same
content is kept: posting reports it as a duplicate.

Defaults: currency USD (its minor unit from :data:`~backflush.domain.numbers.MINOR_UNITS`;
an unknown currency needs ``minor_unit``), the policy's defaults (journal ``per_event``),
events numbered ``#N`` (a close ``close-YYYY-MM``), the ledger's first day the first of the
month of the earliest event (1900-01-01 without events), opening balances dated the day
before.

:class:`EventReader` is the row path for one raw event (schema, domain checks, master-data
references), shared with the event files of :mod:`.events`, where it also builds the bulk
path's templates: one definition of what an event row may be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from backflush.adapters.files.bom_places import bom_entry, bom_version
from backflush.adapters.files.defaults import Defaults
from backflush.adapters.files.document import DocumentHead, ScenarioDocument
from backflush.adapters.files.kanban_rows import KanbanRow
from backflush.adapters.files.limits import (
    MAX_JSON_BYTES,
    MAX_YAML_BYTES,
    SURROGATE,
    Invalid,
    Issue,
    Problems,
    as_code,
    dotted,
    field_text,
    kind,
    refuse,
)
from backflush.adapters.files.loaders import (
    LineDict,
    line_at,
    line_of,
    load_json,
    load_path,
    load_yaml,
)
from backflush.adapters.files.masterdata import reference_issues
from backflush.adapters.files.schemas import (
    EVENT_ROWS,
    EVENTS,
    FIRST_DAY,
    PLACEHOLDER_ID,
    BomRow,
    ItemRow,
    OpeningRow,
    OperationRow,
    PolicyRow,
    WorkCenterRow,
    bom_spec,
    validate,
)
from backflush.domain import text
from backflush.domain.bom import Boms, BomVersion
from backflush.domain.errors import NumberError, Problem, ValidationError
from backflush.domain.events import (
    FLOW_TYPES,
    Close,
    Event,
    Opening,
    Reopen,
    Reversal,
    period_bounds,
)
from backflush.domain.items import Item
from backflush.domain.kanban import Supermarket
from backflush.domain.masterdata import MasterData, check_master_data
from backflush.domain.numbers import MINOR_UNITS
from backflush.domain.policy import Journal, Method, Policy
from backflush.domain.routing import Operation, WorkCenter
from backflush.domain.text import IDENT_PATTERN
from backflush.service_layer.batch import Located
from backflush.service_layer.scenario import Scenario, first_day

_MODELS = {m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
           for m in EVENT_ROWS if m.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
           in FLOW_TYPES}
LEDGER_ID = "every event posted to a ledger needs an id (the idempotency key)"
Name = Callable[[tuple[str | int, ...]], tuple[str, tuple[str | int, ...], Any]]


def load_scenario(path: str | Path, *, method: Method = Method.BACKFLUSH) -> Scenario:
    """The scenario in ``path`` (``.json`` read as JSON, anything else as YAML)."""
    path = Path(path)
    return scenario_from_data(load_path(path), str(path), method=method)


def scenario_from_text(text: str, source: str = "<scenario>", suffix: str = ".yaml", *,
                       method: Method = Method.BACKFLUSH) -> Scenario:
    """The scenario in ``text``, read as JSON when ``suffix`` is ``.json``, else as YAML."""
    is_json = suffix.lower() == ".json"
    limit = MAX_JSON_BYTES if is_json else MAX_YAML_BYTES
    if len(text) > limit:
        raise refuse("file", f"the document is {len(text):,} characters; at most "
                     f"{limit:,} are read", source)
    data = load_json(text, source) if is_json else load_yaml(text, source)
    return scenario_from_data(data, source, method=method)


def scenario_from_data(data: Any, source: str = "<scenario>", *,
                       method: Method = Method.BACKFLUSH) -> Scenario:
    """A scenario from its data already parsed (mappings, lists, text, numbers): what an
    HTTP request's JSON body gives, and what the files above come to."""
    return _Reader(source, method).read(data)


def entry_of(index: int, ident: object) -> str:
    """``events[3] (WO-1)``: the position among the file's events, and the id when it is
    one."""
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if isinstance(ident, str) and IDENT_PATTERN.fullmatch(ident) \
            and not SURROGATE.search(ident):
        return f"events[{index}] ({ident})"
    return f"events[{index}]"


class EventReader:
    """Raw events (mappings) into located domain events, every problem reported.

    ``ledger``: a ledger's file, where every event but a close needs its own id (a scenario
    numbers its events ``#N`` instead). ``broken``: item codes whose master-data rows were
    refused (not reported again as unknown).
    """

    def __init__(self, source: str | None, master: MasterData | None, problems: Problems,
                 *, ledger: bool, broken: frozenset[str] = frozenset()) -> None:
        self.source, self.master, self.problems = source, master, problems
        self.ledger, self.broken = ledger, broken

    def place(self, issues: Sequence[Issue], entry: str, raw: object,
              line: int | None) -> None:
        for issue in issues:
            self.problems.add(Problem(entry, issue.field, issue.message, self.source,
                                      line_at(raw, issue.loc, line)))

    def read(self, raw: object, index: int, line: int | None = None,
             issues: Sequence[Issue] = ()) -> Located | None:
        """The event at ``index`` (0-based, among the file's events), or None when it has
        problems (reported)."""
        line = line if line is not None else line_of(raw)
        if not isinstance(raw, Mapping):
            self.problems.add(Problem(f"events[{index}]", None,
                                      f"expected a mapping, got {kind(raw)}", self.source,
                                      line))
            return None
        entry = entry_of(index, raw.get("id"))
        found = list(issues)
        data: Mapping[str, Any] = raw
        if self.ledger and raw.get("id") is None and raw.get("type") != "close":
            found.append(Issue(("id",), LEDGER_ID))
            data = {**raw, "id": PLACEHOLDER_ID}  # to check the rest all the same
        event: Event | None = None
        try:
            event = validate(EVENTS, data).to_domain(f"#{index + 1}")
        except Invalid as exc:
            found.extend(exc.issues)
        if event is not None and self.master is not None:
            found.extend(i for i in reference_issues(event, self.master)
                         if getattr(event, "item", None) not in self.broken)
        if found or event is None:
            self.place(found, entry, raw, line)
            return None
        return Located(event, self.source, line, entry)

    def template(self, raw: Mapping[str, Any]) -> Event | None:
        """The plain flow ``raw`` (id and all) stands for, if it passes every check a row
        would; None sends its rows the row-by-row way."""
        model = _MODELS.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
        if model is None:  # not a flow: the row path says what it is
            return None
        try:  # the model the discriminated union picks for this type, as a row would
            event: Event = validate(model, raw).to_domain(PLACEHOLDER_ID)
        except Invalid:
            return None
        if event.type not in FLOW_TYPES:
            return None
        if self.master is not None and reference_issues(event, self.master):
            return None
        return event


class _Reader:
    def __init__(self, source: str, method: Method) -> None:
        self.source, self.method = source, method
        self.problems = Problems()
        self.lines: dict[str, int | None] = {}  # entry -> line, for the domain's problems
        self.broken: set[str] = set()  # item codes whose rows were refused

    def add(self, entry: str, field: str | None, message: str, line: int | None) -> None:
        self.problems.add(Problem(entry, field, message, self.source, line))

    def at(self, entry: str, raw: Any, field: str, message: str) -> None:
        """A problem with ``raw``'s ``field``, on that field's line."""
        self.add(entry, field, message, line_at(raw, (field,), line_of(raw)))

    def place(self, issues: list[Issue], name: Name, line: int | None = None) -> None:
        """Each issue under the entry ``name`` gives for its location (on the line of what
        it is about, else ``line``)."""
        for issue in issues:
            entry, rest, raw = name(issue.loc)
            self.add(entry, dotted(rest) or None, issue.message,
                     line_at(raw, rest, line_of(raw) or line))

    def section(self, doc: Mapping[str, Any], key: str, expected: type, what: str) -> Any:
        """``doc[key]`` when it is of the ``expected`` type (dict or list), else empty."""
        value = doc.get(key)
        if value is None:
            return expected()
        if not isinstance(value, expected):
            self.add("document", key, f"expected {what}, got {kind(value)}", _key_line(doc, key))
            return expected()
        return value

    # ---------------------------------------------------------------- the document
    def read(self, doc: Any) -> Scenario:
        if not isinstance(doc, Mapping):
            raise refuse("document", f"expected a mapping (format: 1, items, ...), got "
                         f"{kind(doc)}", self.source, line_of(doc))
        allowed = ScenarioDocument.accepted()
        for key in doc:
            if key not in allowed:
                self.add("document", field_text(key), f"unknown field; expected one of "
                         f"{', '.join(allowed)}", _key_line(doc, key))
        name, currency, minor = self.head(doc)
        policy = self.policy(doc, currency, minor)
        before = len(self.problems)
        boms_raw = self.section(doc, "boms", dict, "a mapping of parent item: lines")
        routings_raw = self.section(doc, "routings", dict, "a mapping of item: operations")
        items = self.items(doc, {str(k) for k in boms_raw}, {str(k) for k in routings_raw})
        boms = self.boms(boms_raw)
        work_centers = self.work_centers(self.section(doc, "work_centers", list,
                                                      "a list of work centers"))
        routings = self.routings(routings_raw)
        kanban = self.kanban(self.section(doc, "kanban", list, "a list of supermarket items"))
        master = MasterData(items, Boms.of(boms), work_centers, routings, kanban)
        if len(self.problems) == before:
            self.check_master(master)
        events = self.events(self.section(doc, "events", list, "a list of events"), master)
        as_of = first_day(events) or FIRST_DAY
        opening = self.opening(doc.get("opening"), as_of, master)
        self.problems.raise_if_any()
        return Scenario(name, policy, master, tuple(events), as_of, opening, self.source)

    def head(self, doc: Mapping[str, Any]) -> tuple[str, str, int]:
        keys = DocumentHead.accepted()
        raw = {k: v for k, v in doc.items() if k in keys}
        try:
            head = validate(DocumentHead, raw)
        except Invalid as exc:
            self.place(exc.issues, lambda loc: ("document", loc, doc))
            return "", "USD", 2
        currency = head.currency.upper()
        minor = head.minor_unit
        if minor is None:
            if currency not in MINOR_UNITS:
                self.add("document", "currency", f"unknown currency {text.safe(currency)}; "
                         "give minor_unit (digits after the decimal point)",
                         _key_line(doc, "currency"))
            minor = MINOR_UNITS.get(currency, 2)
        return head.name, currency, minor

    def policy(self, doc: Mapping[str, Any], currency: str, minor: int) -> Policy:
        fallback = Policy(method=self.method, minor_unit=minor, currency=currency,
                          journal=Journal.PER_EVENT)
        raw = doc.get("policy")
        raw = {} if raw is None else raw

        def name(loc: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...], Any]:
            if loc == ("minor_unit",):  # checked with the policy, given in the document
                return "document", loc, doc
            return "policy", loc, raw

        try:
            return validate(PolicyRow, raw).to_domain(currency, minor, self.method)  # type: ignore[no-any-return]
        except Invalid as exc:
            self.place(exc.issues, name)
            return fallback

    # ---------------------------------------------------------------- master data
    def items(self, doc: Mapping[str, Any], parents: set[str], routed: set[str]
              ) -> dict[str, Item]:
        raw = doc.get("items")
        out: dict[str, Item] = {}
        if not isinstance(raw, list) or not raw:
            self.add("document", "items", "expected a non-empty list of items",
                     _key_line(doc, "items"))
            return out
        for i, row in enumerate(raw):
            code = as_code(row.get("code")) if isinstance(row, Mapping) else None
            entry = f"item {code}" if code is not None else f"items[{i}]"
            self.lines.setdefault(entry, line_of(row))
            try:
                item = validate(ItemRow, row).to_domain(has_bom=code in parents,
                                                        has_routing=code in routed)
            except Invalid as exc:
                self.place(exc.issues, _under(entry, row))
                if isinstance(row, Mapping):
                    self.broken.add(str(row.get("code")))
                continue
            if item.code in out:
                self.add(entry, "code", "appears twice", line_at(row, ("code",), None))
                continue
            out[item.code] = item
        return out

    def boms(self, raw: Mapping[str, Any]) -> list[BomVersion]:
        out: list[BomVersion] = []
        for parent, spec in raw.items():
            code = as_code(parent)
            line = _key_line(raw, parent)
            if code is None:
                self.add(f"bom {text.safe(str(parent))}", None, "the parent is not a valid "
                         "item code", line)
                continue
            self.lines[f"bom {code}"] = line
            try:
                found = validate(BomRow, bom_spec(spec)).to_domain(code)
            except Invalid as exc:
                self.place(exc.issues, partial(bom_entry, code, spec, line), line)
                continue
            for j, v in enumerate(found):
                node = bom_version(spec, line, j)[1]
                self.lines[f"bom {v.key}"] = line_of(node) or line
                lines = node.get("lines") if isinstance(node, Mapping) else None
                for k in range(len(v.lines)):
                    self.lines[f"bom {v.key} line {k + 1}"] = \
                        line_of(lines[k]) if isinstance(lines, list) else line
            out.extend(found)
        return out

    def work_centers(self, raw: list[Any]) -> dict[str, WorkCenter]:
        out: dict[str, WorkCenter] = {}
        for i, row in enumerate(raw):
            code = as_code(row.get("code")) if isinstance(row, Mapping) else None
            entry = f"work center {code}" if code is not None else f"work_centers[{i}]"
            try:
                wc = validate(WorkCenterRow, row).to_domain()
            except Invalid as exc:
                self.place(exc.issues, _under(entry, row))
                continue
            if wc.code in out:
                self.add(entry, "code", "appears twice", line_at(row, ("code",), None))
            out[wc.code] = wc
        return out

    def kanban(self, raw: list[Any]) -> dict[tuple[str, str], Supermarket]:
        out: dict[tuple[str, str], Supermarket] = {}
        for i, row in enumerate(raw):
            try:
                sm = validate(KanbanRow, row).to_domain()
            except Invalid as exc:
                self.place(exc.issues, _under(f"kanban[{i}]", row))
                continue
            if out.setdefault(sm.place, sm) is not sm:
                self.at(f"kanban[{i}]", row, "item", f"{sm.item} at {sm.location} appears twice")
        return out

    def routings(self, raw: Mapping[str, Any]) -> dict[str, tuple[Operation, ...]]:
        out: dict[str, tuple[Operation, ...]] = {}
        for item, ops in raw.items():
            code = as_code(item)
            base = f"routing {code if code is not None else text.safe(str(item))}"
            self.lines[base] = _key_line(raw, item)
            if code is None or not isinstance(ops, list):
                self.add(base, None, "expected an item code and a list of operations"
                         if code is not None or isinstance(ops, list) else
                         "the item is not a valid item code", _key_line(raw, item))
                continue
            parsed = []
            for k, row in enumerate(ops):
                number = row.get("operation") if isinstance(row, Mapping) else None
                if isinstance(number, str) and number.isascii() and number.isdigit():
                    number = int(number)
                if not isinstance(number, int) or isinstance(number, bool):
                    number = (k + 1) * 10
                entry = f"{base} operation {number}"
                self.lines[entry] = line_of(row)
                try:
                    parsed.append(validate(OperationRow, row).to_domain(number))
                except Invalid as exc:
                    self.place(exc.issues, _under(entry, row))
            out[code] = tuple(parsed)
        return out

    def check_master(self, master: MasterData) -> None:
        """The domain's own checks of the master data, placed in this file."""
        try:
            check_master_data(master)
        except ValidationError as exc:
            for p in exc.problems:
                self.add(p.entry, p.field, p.message, self.lines.get(p.entry))

    # ---------------------------------------------------------------- events
    def events(self, raw: list[Any], master: MasterData) -> list[Located]:
        reader = EventReader(self.source, master, self.problems, ledger=False,
                             broken=frozenset(self.broken))
        out: list[Located] = []
        seen: dict[str, tuple[str, str]] = {}  # id -> (content hash, entry)
        closed: list[tuple[date, str]] = []
        defaults = Defaults()
        for i, given in enumerate(raw):
            row = defaults.of(given)
            located = reader.read(row, i, line_of(row) or line_of(raw))
            if located is None:
                continue
            event, entry = located.event, located.entry or f"events[{i}]"
            defaults.read(event.date)
            before = len(self.problems)

            if event.type not in ("close", "reopen"):  # (a reopen is dated after its period)
                for end, by in closed:
                    if event.date <= end:
                        self.at(entry, row, "date", f"{event.date} is in a period closed by "
                                f"{by}; post corrections in the open period")
                        break
            if isinstance(event, Reversal) and event.of not in seen:
                self.at(entry, row, "of", f"no earlier event has id '{event.of}'")
            digest = event.content_hash()
            first = seen.setdefault(event.id, (digest, entry))
            if first[0] != digest:
                self.at(entry, row, "id", f"id '{event.id}' was used by {first[1]} with "
                        "different content")
            if isinstance(event, Close):
                closed.append((event.date, entry))
            if isinstance(event, Reopen):
                reopened = period_bounds(event.period)[1]
                closed = [(end, by) for end, by in closed if end != reopened]
            if len(self.problems) == before:
                out.append(located)
        return out

    def opening(self, raw: Any, as_of: date, master: MasterData) -> Opening | None:
        if raw is None:
            return None

        def name(loc: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...], Any]:
            if len(loc) >= 2 and loc[0] == "stock" and isinstance(loc[1], int):
                stock = raw.get("stock") if isinstance(raw, Mapping) else None
                node = stock[loc[1]] if isinstance(stock, list) and loc[1] < len(stock) \
                    else raw
                return f"opening.stock[{loc[1]}]", loc[2:], node
            return "opening", loc, raw

        when = as_of if as_of == FIRST_DAY else as_of - timedelta(days=1)
        try:
            opening: Opening = validate(OpeningRow, raw).to_domain(when)
        except (Invalid, NumberError) as exc:
            issues = exc.issues if isinstance(exc, Invalid) else [Issue((), str(exc))]
            self.place(issues, name)
            return None
        for i, stock in enumerate(opening.stock):
            if stock.item not in master.items and stock.item not in self.broken:
                self.place([Issue(("stock", i, "item"), f"unknown item '{stock.item}'")], name)
        return opening


def _under(entry: str, raw: Any) -> Name:
    """Every location inside ``raw`` under one entry."""
    def name(loc: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...], Any]:
        return entry, loc, raw
    return name


def _key_line(mapping: object, key: object) -> int | None:
    if isinstance(mapping, LineDict):
        return mapping.line_of(key)
    return line_of(mapping)
