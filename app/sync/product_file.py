"""Validate and parse a product file uploaded by a file ERP (CSV or JSON, see ERP-CONTRACT.md).

validate() reads the whole file and lists every bad line before anything is stored; iter_records()
then streams the same bytes as ProductRecords in bounded memory. content_hash() fingerprints a
record so the engine can skip unchanged products. No database, no Flask.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from app.platforms.records import ProductRecord

MODES = ("full", "quantity")
MAX_ERRORS = 1000
MAX_SKU_LENGTH = 64
MAX_QUANTITY = 2_147_483_647  # many store APIs keep stock in a signed 32-bit integer
ATTR_PREFIX = "attr:"
FIELDS = ("sku", "name", "description", "price", "sale_price", "wholesale_price", "quantity",
          "ean", "brand", "category", "weight", "images", "parent_sku")
_TEXT = ("name", "description", "brand", "category")
_AMOUNTS = ("price", "sale_price", "wholesale_price", "weight")
_CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
_JSON_TYPES = {"application/json", "text/json"}

# One separator is always the decimal mark ("1,234" is 1.234); thousands need both marks or groups.
_PLAIN = re.compile(r"-?\d{1,15}(?:[.,]\d{1,10})?")
_DOT_GROUPS = re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d{1,10})?")   # 1.234,50  1.234.567
_COMMA_GROUPS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d{1,10})?")  # 1,234.50  1,234,567
_SPACE_GROUPS = re.compile(r"-?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d{1,10})?")  # 1 234,50
_EXCEL_SCIENTIFIC = re.compile(r"\d[.,]\d+E\+\d+", re.IGNORECASE)


class UploadFormatError(ValueError):
    """The upload cannot be read at all: bad mode, content type, encoding or JSON syntax."""


@dataclass(frozen=True)
class LineError:
    line: int  # as a person counts lines in the file (CSV header = 1; JSON item index + 1); 0 = whole file
    sku: str | None
    field: str | None
    message: str


class UploadValidationError(ValueError):
    """iter_records() met a bad row: the file was not validated before being stored."""

    def __init__(self, error: LineError):
        super().__init__(f"line {error.line}: {error.message}")
        self.error = error


@dataclass
class ValidationReport:
    rows: int = 0
    errors: list[LineError] = field(default_factory=list)
    errors_omitted: int = 0  # errors past MAX_ERRORS: counted, not listed
    external_parents: list[str] = field(default_factory=list)  # parents the engine must find in the hub

    @property
    def ok(self) -> bool:
        return self.rows > 0 and not self.errors

    def add(self, error: LineError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.errors_omitted += 1


@dataclass
class _Item:
    line: int
    sku: str | None
    record: ProductRecord | None  # None when the row has errors
    errors: list[LineError]
    header: bool = False


def validate(data: bytes, content_type: str, mode: str) -> ValidationReport:
    report = ValidationReport()
    first_line: dict[str, int] = {}  # sku -> line: the one cross-row index we must keep
    variants: dict[str, tuple[int, str]] = {}
    for item in _parse(data, content_type, mode):
        report.rows += not item.header
        for error in item.errors:
            report.add(error)
        if item.sku and item.sku in first_line:
            report.add(LineError(item.line, item.sku, "sku",
                                 f"duplicate SKU, first seen on line {first_line[item.sku]}"))
        elif item.sku:
            first_line[item.sku] = item.line
        if item.record and item.record.parent_sku:
            variants[item.sku] = (item.line, item.record.parent_sku)
    external = set()
    for sku, (line, parent) in variants.items():
        if parent in variants:  # stores allow one level of variants only
            report.add(LineError(line, sku, "parent_sku", f"parent {parent!r} is itself a variant"))
        elif parent not in first_line:
            external.add(parent)
    report.external_parents = sorted(external)
    if report.rows == 0 and not report.errors:
        report.add(LineError(0, None, None, "the file has no product rows"))
    report.errors.sort(key=lambda e: e.line)
    return report


def iter_records(data: bytes, content_type: str, mode: str) -> Iterator[ProductRecord]:
    """Stream the records of a file that validate() accepted; raise on the first bad row."""
    items = _parse(data, content_type, mode)  # format errors raise here, at call time

    def records() -> Iterator[ProductRecord]:
        for item in items:
            if item.errors:
                raise UploadValidationError(item.errors[0])
            if item.record is not None:
                yield item.record
    return records()


_HASHED = tuple(f.name for f in dataclasses.fields(ProductRecord) if f.name != "quantity")


def _canonical(value) -> str:
    if value is None:
        return "\x00"  # not the same as an empty string
    if type(value) is str:
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 12.5 == 12.50
    if isinstance(value, dict):  # attributes: order-insensitive
        return "\x1e".join(f"{k}\x1d{v}" for k, v in sorted(value.items()))
    if isinstance(value, list):  # images: order matters (the first is the main picture)
        return "\x1e".join(map(str, value))
    return str(value)


def content_hash(record: ProductRecord) -> str:
    """sha256 of every field but quantity, so a stock-only change does not count as an edit.

    Fields are joined with a unit separator rather than dumped as one JSON document: the hash
    runs once per row of every import, and this is several times cheaper.
    """
    text = "\x1f".join([_canonical(getattr(record, name)) for name in _HASHED])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse(data: bytes, content_type: str, mode: str) -> Iterator[_Item]:
    if mode not in MODES:
        raise UploadFormatError(f"mode must be 'full' or 'quantity', not {mode!r}")
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _CSV_TYPES:
        return _parse_csv(data, mode)
    if media in _JSON_TYPES:
        return _parse_json(data, mode)
    raise UploadFormatError(f"unsupported content type {media or '(none)'!r}: "
                            "send text/csv or application/json")


def _csv_encoding(data: bytes) -> str:
    if b"\x00" in data:  # UTF-16 text or an .xlsx workbook, both common mistakes
        raise UploadFormatError("the file is not text CSV (UTF-16 or a workbook?): save it as CSV UTF-8")
    for encoding in ("utf-8-sig", "cp1252"):  # cp1252 is what Excel on Windows writes
        decoder = codecs.getincrementaldecoder(encoding)()
        try:  # decode in chunks and throw the text away: we only need to know it decodes
            for start in range(0, len(data), 1 << 20):
                decoder.decode(data[start:start + (1 << 20)])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UploadFormatError("the file is neither UTF-8 nor Windows-1252 text")


def _parse_csv(data: bytes, mode: str) -> Iterator[_Item]:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=_csv_encoding(data), newline="")
    first = stream.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    stream.seek(0)
    return _csv_items(csv.reader(stream, delimiter=delimiter, strict=True), mode)


def _columns(cells: list[str], mode: str) -> tuple[list[str | None], list[LineError], bool]:
    columns: list[str | None] = []
    errors: list[LineError] = []
    for number, cell in enumerate(cells, 1):
        name = cell.strip()
        key: str | None = name.lower()
        if mode == "quantity":  # a quantity upload may be a full export: the rest is ignored
            key = key if key in ("sku", "quantity") else None
        elif key.startswith(ATTR_PREFIX):
            key = ATTR_PREFIX + name[len(ATTR_PREFIX):].strip()
            if key == ATTR_PREFIX:
                errors.append(LineError(1, None, name, f"column {number}: attribute without a name"))
        elif key not in FIELDS:
            errors.append(LineError(1, None, name or None, f"column {number}: " + (
                f"unknown column {name!r}" if name else "the column has no name")))
            key = None
        columns.append(key)
    named = [c for c in columns if c]
    fatal = False
    for dup in sorted({c for c in named if named.count(c) > 1}):
        errors.append(LineError(1, None, dup, f"column {dup!r} appears more than once"))
        fatal = True
    for needed in ("sku", "quantity") if mode == "quantity" else ("sku",):
        if needed not in named:
            errors.append(LineError(1, None, needed, f"the header has no {needed!r} column"))
            fatal = True
    return columns, errors, fatal


def _csv_items(reader, mode: str) -> Iterator[_Item]:
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        columns, errors, fatal = _columns(header, mode)
        if errors:
            yield _Item(1, None, None, errors, header=True)
        if fatal:
            return
        start = reader.line_num + 1
        # The column plan, worked out once: (position, field) and (position, attribute name).
        plain = [(i, key) for i, key in enumerate(columns)
                 if key and not key.startswith(ATTR_PREFIX)]
        attributes = [(i, key[len(ATTR_PREFIX):]) for i, key in enumerate(columns)
                      if key and key.startswith(ATTR_PREFIX)]
        width = len(columns)
        for cells in reader:
            line, start = start, reader.line_num + 1  # a quoted field may span several lines
            if len(cells) != width:
                if not any(c.strip() for c in cells):
                    continue  # a blank line, or ";;;" left by a spreadsheet
                yield _Item(line, None, None, [LineError(
                    line, None, None, f"{len(cells)} fields but the header has {width}")])
                continue
            raw = {key: cells[i] for i, key in plain}
            if not raw.get("sku") and not any(c.strip() for c in cells):
                continue
            attrs = {name: cells[i] for i, name in attributes}
            yield _build(line, raw, attrs, mode, [])
    except csv.Error as exc:  # broken quoting: we cannot find where the next row starts
        yield _Item(start, None, None, [LineError(start, None, None, f"unreadable CSV: {exc}")])


def _parse_json(data: bytes, mode: str) -> Iterator[_Item]:
    try:
        text = data.decode("utf-8-sig")
        doc = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant) if text.strip() else []
    except UnicodeDecodeError:
        raise UploadFormatError("JSON must be encoded in UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UploadFormatError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if isinstance(doc, dict) and isinstance(doc.get("products"), list):
        doc = doc["products"]
    if not isinstance(doc, list):
        raise UploadFormatError('JSON must be a list of products or {"products": [...]}')
    return _json_items(doc, mode)


def _reject_constant(name: str):
    raise UploadFormatError(f"invalid JSON: {name} is not a number")


def _json_items(products: list, mode: str) -> Iterator[_Item]:
    for index, obj in enumerate(products):
        line = index + 1
        if not isinstance(obj, dict):
            yield _Item(line, None, None, [LineError(line, None, None, "a product must be a JSON object")])
            continue
        sku = obj.get("sku") if isinstance(obj.get("sku"), str) else None
        raw: dict = {}
        attrs: dict = {}
        errors: list[LineError] = []
        for key, value in obj.items():
            if mode == "quantity" and key not in ("sku", "quantity"):
                continue
            if key == "attributes":
                if isinstance(value, dict):
                    attrs.update({str(k): _scalar(line, sku, f"attributes.{k}", v, errors)
                                  for k, v in value.items()})
                else:
                    errors.append(LineError(line, sku, key, "must be an object of name: value"))
            elif key.startswith(ATTR_PREFIX) and key != ATTR_PREFIX:
                attrs[key[len(ATTR_PREFIX):]] = _scalar(line, sku, key, value, errors)
            elif key == "images" and isinstance(value, list):
                raw[key] = [_scalar(line, sku, key, url, errors) or "" for url in value]
            elif key in FIELDS:
                raw[key] = _scalar(line, sku, key, value, errors)
            else:
                errors.append(LineError(line, sku, key, f"unknown field {key!r}"))
        yield _build(line, raw, attrs, mode, errors)


def _scalar(line: int, sku: str | None, name: str, value, errors: list[LineError]) -> str | None:
    """JSON value -> the text a CSV cell would hold, so both formats share one set of rules."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, type(None))):
        errors.append(LineError(line, sku, name, "must be a text or a number"))
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return None if value is None else str(value)


def _clean(value) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _build(line: int, raw: dict, attrs: dict, mode: str, errors: list[LineError]) -> _Item:
    sku = _clean(raw.get("sku"))

    def bad(name: str, message: str) -> None:
        errors.append(LineError(line, sku, name, message))

    parent = _clean(raw.get("parent_sku"))  # always None in quantity mode: the column is dropped
    for name, code in (("sku", sku), ("parent_sku", parent)):
        if code and len(code) > MAX_SKU_LENGTH:
            bad(name, f"longer than {MAX_SKU_LENGTH} characters")
        elif code and not code.isprintable():
            bad(name, "contains control characters")
    if not sku:
        bad("sku", "the SKU is empty")
    elif parent == sku:
        bad("parent_sku", "a product cannot be its own parent")
    quantity = _quantity(raw.get("quantity"), mode == "quantity", bad)
    if mode == "quantity":
        record = ProductRecord(sku=sku or "", quantity=quantity)
    else:
        values = {name: _clean(raw.get(name)) for name in _TEXT}
        values.update({name: _amount(name, raw.get(name), bad) for name in _AMOUNTS})
        ean = _clean(raw.get("ean"))
        if ean and not _gtin_ok(ean):
            bad("ean", "looks like Excel scientific notation: format the column as text"
                if _EXCEL_SCIENTIFIC.fullmatch(ean) else f"{ean!r} is not a valid EAN/GTIN")
        if None not in (values["sale_price"], values["price"]) and values["sale_price"] > values["price"]:
            bad("sale_price", "the sale price is higher than the price")
        record = ProductRecord(sku=sku or "", quantity=quantity, ean=ean, parent_sku=parent,
                               images=_images(raw.get("images"), bad),
                               attributes={k: v for k, v in ((k, _clean(v)) for k, v in attrs.items()) if v},
                               **values)
    return _Item(line, sku, None if errors else record, errors)


def _decimal(value) -> Decimal | None:
    text = _clean(value)
    if text is None:
        return None
    if _PLAIN.fullmatch(text):
        return Decimal(text.replace(",", "."))
    if _DOT_GROUPS.fullmatch(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    if _COMMA_GROUPS.fullmatch(text):
        return Decimal(text.replace(",", ""))
    if _SPACE_GROUPS.fullmatch(text):
        return Decimal(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))
    raise ValueError(f"{text!r} is not a number")


def _amount(name: str, value, bad) -> Decimal | None:
    try:
        amount = _decimal(value)
    except ValueError as exc:
        return bad(name, str(exc))
    if amount is not None and amount < 0:
        return bad(name, "must not be negative")
    return amount


def _quantity(value, required: bool, bad) -> int | None:
    amount = _amount("quantity", value, bad)
    if amount is None:
        if required and _clean(value) is None:
            bad("quantity", "the quantity is empty")
        return None
    if amount != amount.to_integral_value():
        return bad("quantity", f"{value.strip()!r} is not a whole number")
    if amount > MAX_QUANTITY:
        return bad("quantity", "is too large")
    return int(amount)


# An http(s) scheme, a host, and no white space anywhere (cheaper than urlsplit per image).
_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def _images(value, bad) -> list[str]:
    urls = [u.strip() for u in (value if isinstance(value, list) else (value or "").split("|"))]
    for url in filter(None, urls):
        if not _HTTP_URL.fullmatch(url):
            bad("images", f"{url[:100]!r} is not an http(s) URL")
    return [u for u in urls if u]


def _gtin_ok(code: str) -> bool:
    """EAN-8, UPC-A, EAN-13 or GTIN-14 with a correct check digit."""
    if not code.isascii() or not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]
