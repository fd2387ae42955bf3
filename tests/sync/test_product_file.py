"""ERP product uploads: CSV dialects and encodings, every bad line reported, JSON shapes, streaming."""
import tracemalloc
import types
from decimal import Decimal

import pytest

from app.platforms.records import ProductRecord
from app.sync.product_file import (MAX_ERRORS, LineError, UploadFormatError, UploadValidationError,
                                   content_hash, iter_records, validate)

CSV, JSON = "text/csv", "application/json"


def records(data, content_type=CSV, mode="full"):
    report = validate(data, content_type, mode)
    assert report.ok, report.errors
    return list(iter_records(data, content_type, mode))


def errors(data, content_type=CSV, mode="full"):
    report = validate(data, content_type, mode)
    assert not report.ok
    return [(e.line, e.sku, e.field) for e in report.errors]


def test_semicolon_csv_with_every_column():
    data = ("sku;name;description;price;wholesale_price;quantity;ean;brand;category;weight;images;"
            "parent_sku;attr:Colour\n"
            "TEE;T-shirt;Soft;19,90;9,50;12;4006381333931;Acme;Shirts;0,2;"
            "https://img.example/a.jpg | https://img.example/b.jpg;;\n"
            "TEE-R;T-shirt red;;19,90;;3;;;;;;TEE;Red\n").encode()
    tee, red = records(data)
    assert tee == ProductRecord(sku="TEE", name="T-shirt", description="Soft", price=Decimal("19.90"),
                                wholesale_price=Decimal("9.50"), quantity=12, ean="4006381333931",
                                brand="Acme", category="Shirts", weight=Decimal("0.2"),
                                images=["https://img.example/a.jpg", "https://img.example/b.jpg"])
    assert (red.parent_sku, red.attributes, red.quantity, red.description) == ("TEE", {"Colour": "Red"}, 3, None)


def test_comma_csv_with_quotes_crlf_and_uppercase_header():
    data = b'SKU,Name,Price,Quantity\r\nA-1,"Mug, large","12,50",5.0\r\nB-2,"Say ""hi""",3,0\r\n'
    a, b = records(data)
    assert (a.name, a.price, a.quantity) == ("Mug, large", Decimal("12.50"), 5)
    assert (b.name, b.price, b.quantity) == ('Say "hi"', Decimal("3"), 0)


def test_utf8_bom_and_windows_1252():
    assert records(b"\xef\xbb\xbfsku;name\nA;Caff\xc3\xa8\n")[0].name == "Caffè"
    cp1252 = "sku;name;price\nA;Caffè € 1kg;1.234,50\n".encode("cp1252")
    assert b"\xe8" in cp1252 and b"\x80" in cp1252
    (rec,) = records(cp1252)
    assert (rec.name, rec.price) == ("Caffè € 1kg", Decimal("1234.50"))


@pytest.mark.parametrize("data,message", [
    (b"sku;name\nA;\x81\x8d\x90\n", "neither UTF-8 nor Windows-1252"),  # bytes cp1252 leaves undefined
    ("sku;name\nA;x\n".encode("utf-16"), "not text CSV"),
    (b"PK\x03\x04\x14\x00\x06\x00", "not text CSV"),
])
def test_undecodable_csv(data, message):
    with pytest.raises(UploadFormatError, match=message):
        validate(data, CSV, "full")
    with pytest.raises(UploadFormatError):
        iter_records(data, CSV, "full")


@pytest.mark.parametrize("text,value", [
    ("12,50", "12.50"), ("12.50", "12.50"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"),
    ("1.234.567", "1234567"), ("1 234,50", "1234.50"), (" 7 ", "7"), ("0", "0")])
def test_decimal_formats(text, value):
    assert records(f'sku;price\nA;"{text}"\n'.encode())[0].price == Decimal(value)


@pytest.mark.parametrize("text", ["12,5,3", "1.23.4", "abc", "12.5€", "1e3", "NaN", "-1"])
def test_bad_prices_rejected(text):
    assert errors(f'sku;price\nA;"{text}"\n'.encode()) == [(2, "A", "price")]


@pytest.mark.parametrize("text,value", [("5", 5), ("5,0", 5), ("5.0", 5), ("0", 0), ("1.000", 1)])
def test_quantity_accepted(text, value):
    assert records(f"sku;quantity\nA;{text}\n".encode(), mode="quantity")[0].quantity == value


@pytest.mark.parametrize("text", ["5,5", "-1", "x", "", "9999999999"])
def test_quantity_rejected(text):
    assert errors(f"sku;quantity\nA;{text}\n".encode(), mode="quantity") == [(2, "A", "quantity")]


def test_every_bad_line_is_reported_in_one_report():
    data = ("sku;name;description;price;quantity;images;parent_sku;ean\n"
            "OK-1;Fine;;1;1;;;\n"
            ";No sku;;1;1;;;\n"                                  # line 3
            'BAD-PRICE;x;"two\nlines";-2;1;;;\n'                   # lines 4-5
            "BAD-QTY;x;;1;2,5;;;\n"                              # line 6
            "BAD-IMG;x;;1;1;ftp://x/a.jpg|https://ok/b.jpg;;\n"   # line 7
            "SELF;x;;1;1;;SELF;\n"                               # line 8
            "OK-1;again;;1;1;;;\n"                               # line 9
            f"{'L' * 65};x;;1;1;;;\n"                            # line 10
            "EAN;x;;1;1;;;4006381333932\n"                       # line 11
            "SHORT;x\n").encode()                                # line 12
    report = validate(data, CSV, "full")
    assert not report.ok and report.rows == 10
    got = [(e.line, e.sku, e.field) for e in report.errors]
    assert got == [(3, None, "sku"), (4, "BAD-PRICE", "price"), (6, "BAD-QTY", "quantity"),
                   (7, "BAD-IMG", "images"), (8, "SELF", "parent_sku"), (9, "OK-1", "sku"),
                   (10, "L" * 65, "sku"), (11, "EAN", "ean"), (12, None, None)]
    by_line = {e.line: e.message for e in report.errors}
    assert "first seen on line 2" in by_line[9]
    assert "ftp://x/a.jpg" in by_line[7] and "whole number" in by_line[6]
    assert "2 fields but the header has 8" in by_line[12]


def test_error_list_is_capped():
    data = b"sku;price\n" + b"".join(b"S%d;x\n" % i for i in range(MAX_ERRORS + 500))
    report = validate(data, CSV, "full")
    assert len(report.errors) == MAX_ERRORS and report.errors_omitted == 500 and not report.ok


def test_header_problems():
    assert errors(b"name;price\nx;1\n") == [(1, None, "sku")]
    assert errors(b"sku;colour;price\nA;red;x\n") == [(1, None, "colour"), (2, "A", "price")]
    assert errors(b"sku;SKU\nA;B\n") == [(1, None, "sku")]
    assert errors(b"sku;name\n", mode="quantity") == [(1, None, "quantity")]


def test_quantity_mode_ignores_other_columns():
    data = b"sku;name;price;colour;attr:x;quantity\nA;;not a price;red;1;7\nB;Bee;-3;;;0\n"
    assert records(data, mode="quantity") == [ProductRecord(sku="A", quantity=7), ProductRecord(sku="B", quantity=0)]
    assert not validate(data, CSV, "full").ok


def test_variants_parents():
    data = b"sku;parent_sku\nP;\nV1;P\nV2;ELSEWHERE\nV3;V1\n"
    report = validate(data, CSV, "full")
    assert [(e.line, e.field) for e in report.errors] == [(5, "parent_sku")]  # V1 is itself a variant
    assert report.external_parents == ["ELSEWHERE"]  # the engine checks these against the hub


def test_excel_scientific_ean_gets_a_hint():
    report = validate(b"sku;ean\nA;4.00638E+12\n", CSV, "full")
    assert "scientific notation" in report.errors[0].message


def test_json_list_and_products_object():
    items = ('[{"sku": "A", "price": 12.5, "quantity": 3, "images": ["https://x/a.jpg"],'
             ' "attributes": {"size": "M", "pack": 6}, "attr:colour": "red"},'
             ' {"sku": "B", "price": "1.234,50", "quantity": "5,0"}]')
    a, b = records(items.encode(), JSON)
    assert (a.price, a.quantity, a.images) == (Decimal("12.5"), 3, ["https://x/a.jpg"])
    assert a.attributes == {"size": "M", "pack": "6", "colour": "red"}
    assert (b.price, b.quantity) == (Decimal("1234.50"), 5)
    wrapped = b'\xef\xbb\xbf{"products": ' + items.encode() + b"}"
    assert records(wrapped, "application/json; charset=utf-8") == [a, b]


def test_json_errors_use_item_numbers():
    data = b'[{"sku": "A"}, {"sku": "B", "quantity": true, "colour": 1}, "x", {"sku": "A", "price": [1]}]'
    assert errors(data, JSON) == [(2, "B", "quantity"), (2, "B", "colour"), (3, None, None),
                                  (4, "A", "price"), (4, "A", "sku")]
    assert records(b'[{"sku": "A", "quantity": 2, "colour": [1]}]', JSON, "quantity")[0].quantity == 2


@pytest.mark.parametrize("data", [b"{", b'{"items": []}', b'"x"', b"[NaN]", b"[\xff]"])
def test_unreadable_json(data):
    with pytest.raises(UploadFormatError):
        validate(data, JSON, "full")


@pytest.mark.parametrize("data,content_type", [
    (b"", CSV), (b"\xef\xbb\xbf", CSV), (b"sku;name\n", CSV), (b"sku;name\n;;\n\n", CSV),
    (b"", JSON), (b"[]", JSON), (b'{"products": []}', JSON)])
def test_empty_files_rejected(data, content_type):
    report = validate(data, content_type, "full")
    assert not report.ok and report.rows == 0
    assert report.errors == [LineError(0, None, None, "the file has no product rows")]


@pytest.mark.parametrize("content_type,mode", [("application/xml", "full"), ("", "full"), (CSV, "all")])
def test_bad_content_type_or_mode(content_type, mode):
    with pytest.raises(UploadFormatError):
        validate(b"sku\nA\n", content_type, mode)


def test_iter_records_is_lazy_and_refuses_bad_rows():
    stream = iter_records(b"sku;quantity\nA;1\nB;x\n", CSV, "full")
    assert isinstance(stream, types.GeneratorType)
    assert next(stream).sku == "A"
    with pytest.raises(UploadValidationError, match="line 3"):
        next(stream)


def test_content_hash():
    base = ProductRecord(sku="A", name="Mug", price=Decimal("12.5"), quantity=1, attributes={"a": "1", "b": "2"})
    same = ProductRecord(sku="A", name="Mug", price=Decimal("12.50"), quantity=99, attributes={"b": "2", "a": "1"})
    assert content_hash(base) == content_hash(same) and len(content_hash(base)) == 64
    assert content_hash(base) != content_hash(ProductRecord(sku="A", name="Mug.", price=Decimal("12.5")))
    assert content_hash(base) != content_hash(ProductRecord(sku="A", name="Mug", price=Decimal("12.6")))


def test_100k_rows_stream_in_bounded_memory():
    rows = 100_000
    data = b"sku;name;price;quantity;images;attr:colour\n" + b"".join(
        b"SKU-%06d;Product %d with a longer name;%d,%02d;%d;https://img.example/%d.jpg;red\n"
        % (i, i, i % 500, i % 100, i % 50, i) for i in range(rows))
    tracemalloc.start()
    try:
        count = total = 0
        for record in iter_records(data, CSV, "full"):
            count += 1
            total += record.quantity
        stream_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        report = validate(data, CSV, "full")
        validate_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == rows == report.rows and report.ok and total == sum(i % 50 for i in range(rows))
    assert stream_peak < 5 * 2**20, stream_peak  # no list of rows: a few buffers only
    assert validate_peak < 50 * 2**20, validate_peak  # the SKU index is the only thing that grows
