#!/usr/bin/env python3
"""Writes the case files of this directory. The JSON files are the source of truth;
this script records how the derived numbers (epoch days/micros, base64 payloads)
were computed from the expressions in Debezium's tests (Java formulas transcribed).
Run from anywhere: python3 testdata/postgres-types/generate.py"""
import base64, json, os, struct, math

OUT = os.path.dirname(os.path.abspath(__file__))

DBZ = "Debezium v3.6.1.Final"
ARPT = DBZ + " debezium-connector-postgres/src/test/java/io/debezium/connector/postgresql/AbstractRecordsProducerTest.java"
RSPIT = DBZ + " debezium-connector-postgres/src/test/java/io/debezium/connector/postgresql/RecordsStreamProducerIT.java"
DDIFF = DBZ + " debezium-connector-postgres/src/test/java/io/debezium/connector/postgresql/DecoderDifferences.java"
DOCS = DBZ + " documentation/modules/ROOT/pages/connectors/postgresql.adoc, 'Data type mappings'"
PVC = DBZ + " PostgresValueConverter.java"

def sch(t, optional=True, name=None, version=None, params=None, doc=None, default=None, **kw):
    d = {"type": t, "optional": optional}
    if name is not None: d["name"] = name
    if version is not None: d["version"] = version
    if doc is not None: d["doc"] = doc
    if params is not None: d["parameters"] = params
    if default is not None: d["default"] = default
    d.update(kw)
    return d

def named(t, name, optional=True, **kw):
    return sch(t, optional, name=name, version=1, **kw)

def decimal(scale, precision=None, optional=True, **kw):
    p = {"scale": str(scale)}
    if precision is not None: p["connect.decimal.precision"] = str(precision)
    return sch("bytes", optional, name="org.apache.kafka.connect.data.Decimal", version=1, params=p, **kw)

def vsd_schema(optional=True):
    return sch("struct", optional, name="io.debezium.data.VariableScaleDecimal", version=1, doc="Variable scaled decimal",
               fields=[dict(sch("int32", False), field="scale"), dict(sch("bytes", False), field="value")])

def point_schema(optional=True):
    return sch("struct", optional, name="io.debezium.data.geometry.Point", version=1, doc="Geometry (POINT)",
               fields=[dict(sch("double", False), field="x"), dict(sch("double", False), field="y"),
                       dict(sch("bytes", True), field="wkb"), dict(sch("int32", True), field="srid")])

def array(items, optional=True):
    return sch("array", optional, items=items)

def b64(bs):
    return base64.b64encode(bytes(bs)).decode()

def java_bigint_bytes(n):
    # BigInteger.toByteArray(): minimal two's complement big-endian
    length = 1
    while True:
        try:
            return n.to_bytes(length, "big", signed=True)
        except OverflowError:
            length += 1

def dec(s):
    """Kafka JsonConverter payload of a BigDecimal given as a plain string: base64 of the unscaled value."""
    neg = s.startswith("-")
    digits = s.lstrip("-").replace(".", "")
    n = int(digits) * (-1 if neg else 1)
    return b64(java_bigint_bytes(n))

def dec_scale(s):
    return len(s.split(".")[1]) if "." in s else 0

def vsd(s):
    return {"scale": dec_scale(s), "value": dec(s)}

def wkb_point(x, y):
    return b64(b"\x01" + struct.pack("<i", 1) + struct.pack("<d", x) + struct.pack("<d", y))

def java_epoch_day(y, m, d):
    """java.time.LocalDate.toEpochDay, transcribed from the JDK algorithm (proleptic Gregorian)."""
    total = 365 * y
    if y >= 0:
        total += (y + 3) // 4 - (y + 99) // 100 + (y + 399) // 400
    else:
        q = lambda a, b: int(a / b)
        total -= q(y, -4) - q(y, -100) + q(y, -400)
    total += (367 * m - 362) // 12
    total += d - 1
    if m > 2:
        total -= 1
        leap = (y % 4 == 0) and ((y % 100 != 0) or (y % 400 == 0))
        if not leap:
            total -= 1
    return total - 719528

def epoch_micros(y, mo, d, h, mi, s, micros=0):
    """LocalDateTime(...).atOffset(UTC).toInstant() as epoch microseconds."""
    return (java_epoch_day(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1_000_000 + micros

def epoch_millis(y, mo, d, h, mi, s, nanos=0):
    return (java_epoch_day(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000 + nanos // 1_000_000

def duration_micros(years, months, days, hours, minutes, seconds, micros=0):
    """io.debezium.time.MicroDuration.durationMicros with DAYS_PER_MONTH_AVG (IEEE doubles, same operation order)."""
    days_per_month = 365.25 / 12.0
    number_of_days = ((years * 12) + months) * days_per_month + days
    number_of_seconds = (((number_of_days * 24 + hours) * 60) + minutes) * 60 + seconds
    return int(number_of_seconds * 1e6 + micros)

def case(name, type, text, schema, value, source, optional=None, **kw):
    d = {"case": name, "type": type}
    if text is not None: d["text"] = text
    d["schema"] = schema
    d["value"] = value
    d["source"] = source
    if optional is None:
        optional = schema.get("optional", True) if schema else True
    d["optional"] = optional
    d.update(kw)
    return d

def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")

os.makedirs(OUT, exist_ok=True)

def row(oid, name, typtype, cat, elem=0, base=0, typmod=-1, labels=None, nsp="public"):
    return {"oid": oid, "typname": name, "nspname": nsp, "typtype": typtype, "typcategory": cat,
            "typelem": elem, "typbasetype": base, "typtypmod": typmod, "enum_labels": labels}

USER_TYPES = [
    row(16401, "citext", "b", "S"), row(16402, "_citext", "b", "A", elem=16401),
    row(16411, "hstore", "b", "U"), row(16412, "_hstore", "b", "A", elem=16411),
    row(16421, "ltree", "b", "U"), row(16422, "_ltree", "b", "A", elem=16421),
    row(16431, "isbn", "b", "U"), row(16432, "_isbn", "b", "A", elem=16431),
    row(16441, "test_type", "e", "E", labels=["V1", "V2"]), row(16442, "_test_type", "b", "A", elem=16441),
    row(16451, "nmtoken", "d", "S", base=25), row(16452, "_nmtoken", "b", "A", elem=16451),
    row(16461, "amount", "d", "N", base=1700, typmod=((10 << 16) | 2) + 4), row(16462, "_amount", "b", "A", elem=16461),
]

# ---------------------------------------------------------------- basic types
src_num = ARPT + " schemasAndValuesForNumericType (INSERT_NUMERIC_TYPES_STMT)"
basic = {
    "description": "Basic types with default settings.",
    "settings": {},
    "user_types": USER_TYPES,
    "cases": [
        case("si", "int2", "1", sch("int16"), 1, src_num),
        case("i", "int4", "123456", sch("int32"), 123456, src_num),
        case("bi", "int8", "1234567890123", sch("int64"), 1234567890123, src_num),
        case("r", "float4", "3.3", sch("float"), 3.3, src_num),
        case("db", "float8", "4.44", sch("double"), 4.44, src_num),
        case("r_int", "float4", "3", sch("float"), 3.0, src_num),
        case("db_int", "float8", "4", sch("double"), 4.0, src_num),
        case("ss", "int2", "1", sch("int16", False, default=0), 1, src_num + "; smallserial NOT NULL: default nextval(...) → 0",
             default_expression="nextval('numeric_table_ss_seq'::regclass)"),
        case("bs", "int8", "123", sch("int64", False, default=0), 123, src_num + "; bigserial NOT NULL: default nextval(...) → 0",
             default_expression="nextval('numeric_table_bs_seq'::regclass)"),
        case("b", "bool", "t", sch("boolean"), True, src_num),
        case("o", "oid", "4000000000", sch("int64"), 4000000000, src_num),
        case("r_nan", "float4", "NaN", sch("float"), "NaN", src_num + " (Float.NaN; JsonConverter writes non-finite numbers as strings)"),
        case("db_nan", "float8", "NaN", sch("double"), "NaN", src_num),
        case("r_pinf", "float4", "Infinity", sch("float"), "Infinity", src_num),
        case("db_pinf", "float8", "Infinity", sch("double"), "Infinity", src_num),
        case("r_ninf", "float4", "-Infinity", sch("float"), "-Infinity", src_num),
        case("db_ninf", "float8", "-Infinity", sch("double"), "-Infinity", src_num),
    ]
}
src_str = ARPT + " schemasAndValuesForStringTypes (INSERT_STRING_TYPES_STMT)"
basic["cases"] += [
    case("vc", "varchar(2)", "žš", sch("string"), "žš", src_str),
    case("vcv", "varchar(2)", "bb", sch("string"), "bb", src_str),
    case("ch", "bpchar(4)", "cdef", sch("string"), "cdef", src_str),
    case("c", "bpchar(3)", "abc", sch("string"), "abc", src_str),
    case("t", "text", "some text", sch("string"), "some text", src_str),
    case("b", "bytea", "\\x000102", sch("bytes"), b64([0, 1, 2]), src_str),
    case("bnn", "bytea", "\\x030405", sch("bytes", False), b64([3, 4, 5]), src_str),
    case("ct", "citext", "Hello World", sch("string"), "Hello World", src_str),
]
src_txt = ARPT + " schemasAndValuesForTextTypes (INSERT_TEXT_TYPES_STMT)"
basic["cases"] += [
    case("j", "json", '{"bar": "baz"}', named("string", "io.debezium.data.Json"), '{"bar": "baz"}', src_txt),
    case("jb", "jsonb", '{"bar": "baz"}', named("string", "io.debezium.data.Json"), '{"bar": "baz"}', src_txt),
    case("x", "xml", "<foo>bar</foo><foo>bar</foo>", named("string", "io.debezium.data.Xml"), "<foo>bar</foo><foo>bar</foo>", src_txt),
    case("u", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", named("string", "io.debezium.data.Uuid"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", src_txt),
    case("inet", "inet", "192.168.2.0/12", sch("string"), "192.168.2.0/12", ARPT + " schemasAndValuesForNetworkAddressTypes"),
    case("cidr", "cidr", "192.168.100.128/25", sch("string"), "192.168.100.128/25", ARPT + " schemasAndValueForCidrAddressType"),
    case("macaddr", "macaddr", "08:00:2b:01:02:03", sch("string"), "08:00:2b:01:02:03", ARPT + " schemasAndValueForMacaddrType"),
    case("macaddr8", "macaddr8", "08:00:2b:01:02:03:04:05", sch("string"), "08:00:2b:01:02:03:04:05", ARPT + " schemaAndValueForMacaddr8Type"),
    case("p", "point", "(1,1)", point_schema(), {"x": 1.0, "y": 1.0, "wkb": wkb_point(1, 1), "srid": None},
         ARPT + " schemaAndValuesForGeomTypes: Point.createValue(schema, 1, 1) (WKB: byte order 1, type 1 LE, x, y LE doubles)"),
]
src_rng = ARPT + " schemaAndValuesForRangeTypes (INSERT_RANGE_TYPES_STMT)"
basic["cases"] += [
    case("unbounded_exclusive_tsrange", "tsrange", '["2019-03-31 15:30:00",infinity)', sch("string"), '["2019-03-31 15:30:00",infinity)', src_rng),
    case("bounded_inclusive_tsrange", "tsrange", '["2019-03-31 15:30:00","2019-04-30 15:30:00"]', sch("string"), '["2019-03-31 15:30:00","2019-04-30 15:30:00"]', src_rng),
    case("unbounded_exclusive_tstzrange", "tstzrange", '["2017-06-05 11:29:12.549426+00",)', sch("string"), '["2017-06-05 11:29:12.549426+00",)', src_rng + " (text passed through; the test only checks the instants)"),
    case("unbounded_exclusive_daterange", "daterange", "[2019-03-31,infinity)", sch("string"), "[2019-03-31,infinity)", src_rng),
    case("bounded_exclusive_daterange", "daterange", "[2019-03-31,2019-04-30)", sch("string"), "[2019-03-31,2019-04-30)", src_rng),
    case("int4_number_range", "int4range", "[1000,6000)", sch("string"), "[1000,6000)", src_rng),
    case("numerange", "numrange", "[5.3,6.3)", sch("string"), "[5.3,6.3)", src_rng),
    case("int8_number_range", "int8range", "[1000000,6000000)", sch("string"), "[1000000,6000000)", src_rng),
]
src_bin = ARPT + " schemaAndValuesForBinTypes (INSERT_BIN_TYPES_STMT)"
bits = lambda n: named("bytes", "io.debezium.data.Bits", params={"length": str(n)})
basic["cases"] += [
    case("ba", "bytea", "\\x010203", sch("bytes"), b64([1, 2, 3]), src_bin),
    case("bol", "bit(1)", "0", sch("boolean"), False, src_bin),
    case("bol2", "bit(1)", "1", sch("boolean"), True, src_bin),
    case("bs", "bit(2)", "11", bits(2), b64([3]), src_bin),
    case("bs7", "bit(7)", "1000000", bits(7), b64([64]), src_bin + " ('1'::bit(7) is stored as 1000000)"),
    case("bv1", "varbit(1)", "1", sch("boolean"), True, src_bin),
    case("bv", "varbit(2)", "00", bits(2), b64([]), src_bin),
    case("bv2", "varbit(24)", "000000110000001000000001", bits(24), b64([1, 2, 3]), src_bin),
    case("bvl", "varbit(64)", "1" + "0" * 63, bits(64), b64([0, 0, 0, 0, 0, 0, 0, 0x80]), src_bin + " (Long.MAX_VALUE + 1)"),
    case("bvunlimited1", "varbit", "101", bits(2147483647), b64([5]), src_bin),
    case("bvunlimited2", "varbit", "111011010001000110000001000000001", bits(2147483647), b64([1, 2, 35, 0xDA, 1]), src_bin),
]
src_money = ARPT + " schemaAndValuesForMoneyTypes / schemaAndValuesForNegativeMoneyTypes (INSERT_CASH_TYPES_STMT)"
basic["cases"] += [
    case("csh", "money", "$1,234.11", decimal(2), dec("1234.11"), src_money, decimal="1234.11"),
    case("csh_negative", "money", "-$1,234.11", decimal(2), dec("-1234.11"), src_money, decimal="-1234.11"),
    case("csh_parenthesised", "money", "($1,234.11)", decimal(2), dec("-1234.11"), DBZ + " PostgresMoney.parse (parentheses mean negative)", decimal="-1234.11"),
]
src_custom = ARPT + " schemasAndValuesForCustomTypes (INSERT_CUSTOM_TYPES_STMT)"
basic["cases"] += [
    case("lt", "ltree", "Top.Collections.Pictures.Astronomy.Galaxies", named("string", "io.debezium.data.Ltree"), "Top.Collections.Pictures.Astronomy.Galaxies", src_custom),
    case("i", "isbn", "0-393-04002-X", sch("string", False), "0-393-04002-X", src_custom),
    case("lt_array", "_ltree", "{Ship.Frigate,Ship.Destroyer}", array(named("string", "io.debezium.data.Ltree")), ["Ship.Frigate", "Ship.Destroyer"], src_custom),
]
src_enum = RSPIT + " shouldEmitEnumColumnDefaultValuesInSchema / shouldStreamEnumArrayAsKnownType"
basic["cases"] += [
    case("value", "test_type", "V2", named("string", "io.debezium.data.Enum", optional=False, params={"allowed": "V1,V2"}, default="V2"), "V2", src_enum,
         default_expression="'V2'::test_type"),
    case("value_array", "_test_type", "{V1,V2}", array(named("string", "io.debezium.data.Enum", optional=False, params={"allowed": "V1,V2"}), optional=False), ["V1", "V2"],
         src_enum + " (element schema not optional)"),
    case("token", "nmtoken", "foo", sch("string"), "foo", DBZ + " DomainTypesIT.shouldNotChokeOnDomainTypeInArray (domain over text)"),
    case("tokens", "_nmtoken", "{bar,baz}", None, None, DBZ + " DomainTypesIT.shouldNotChokeOnDomainTypeInArray (array of domain skipped)", unsupported=True, unsupported_kind="NoConverter"),
    case("amount", "amount", "12.50", decimal(2, 10), dec("12.50"), DOCS + " 'Domain types': a domain maps as its base type, with the domain's modifiers", decimal="12.50"),
    case("name", "name", "postgres", sch("string"), "postgres", "pgjdbc maps name to VARCHAR → JdbcValueConverters string (Debezium's snapshot path)"),
    case("pk", "int4", "1", sch("int32", False, default=0), 1, src_enum + ": SERIAL primary key schema int32 with default 0",
         default_expression="nextval('enum_table_pk_seq'::regclass)"),
    case("box", "box", "(3,4),(1,2)", None, None, DBZ + " PostgresValueConverter.schemaBuilder: no mapping for box (column skipped)", unsupported=True, unsupported_kind="NoConverter"),
]
write(f"{OUT}/basic.json", basic)
print("basic", len(basic["cases"]))

# ---------------------------------------------------------------- temporal
src_dt = ARPT + " schemaAndValuesForDateTimeTypes (INSERT_DATE_TIME_TYPES_STMT)"
MT = lambda o=True: named("int64", "io.debezium.time.MicroTimestamp", o)
TSm = lambda o=True: named("int64", "io.debezium.time.Timestamp", o)
ZT = lambda o=True: named("string", "io.debezium.time.ZonedTimestamp", o)
ZTi = lambda o=True: named("string", "io.debezium.time.ZonedTime", o)
D = lambda o=True: named("int32", "io.debezium.time.Date", o)
MTi = lambda o=True: named("int64", "io.debezium.time.MicroTime", o)
Ti = lambda o=True: named("int32", "io.debezium.time.Time", o)
MD = lambda o=True: named("int64", "io.debezium.time.MicroDuration", o)
adaptive = {
    "description": "time.precision.mode=adaptive (the default).",
    "settings": {"time.precision.mode": "adaptive"},
    "cases": [
        case("ts", "timestamp", "2016-11-04 13:51:30.123456", MT(), epoch_micros(2016, 11, 4, 13, 51, 30, 123456), src_dt),
        case("tsneg", "timestamp(6)", "1936-10-25 22:10:12.608", MT(), epoch_micros(1936, 10, 25, 22, 10, 12, 608000), src_dt),
        case("ts_ms", "timestamp(3)", "2016-11-04 13:51:30.123", TSm(), epoch_millis(2016, 11, 4, 13, 51, 30, 123456000), src_dt),
        case("ts_us", "timestamp(6)", "2016-11-04 13:51:30.123456", MT(), epoch_micros(2016, 11, 4, 13, 51, 30, 123456), src_dt),
        case("tz", "timestamptz", "2016-11-04 11:51:30.123456+00", ZT(), "2016-11-04T11:51:30.123456Z", src_dt),
        case("tz_offset", "timestamptz", "2016-11-04 13:51:30.123456+02", ZT(), "2016-11-04T11:51:30.123456Z", src_dt + " (the value as a session in UTC+2 prints it)"),
        case("date", "date", "2016-11-04", D(), java_epoch_day(2016, 11, 4), src_dt),
        case("date_pinf", "date", "infinity", D(), java_epoch_day(-5877611, 6, 21),
             PVC + " POSITIVE_INFINITY_LOCAL_DATE = LocalDate.parse(\"-5877611-06-21\") → Date.toEpochDay (no test expectation in Debezium)"),
        case("date_ninf", "date", "-infinity", D(), java_epoch_day(-5877611, 6, 22),
             PVC + " NEGATIVE_INFINITY_LOCAL_DATE = LocalDate.parse(\"-5877611-06-22\") → Date.toEpochDay (no test expectation in Debezium)"),
        case("ti", "time", "13:51:30", MTi(), (13 * 3600 + 51 * 60 + 30) * 1_000_000, src_dt),
        case("tip", "time(3)", "13:51:30.123", Ti(), (13 * 3600 + 51 * 60 + 30) * 1000 + 123, src_dt),
        case("ttf", "time", "24:00:00", MTi(), 86400 * 1_000_000, src_dt + " (TimeUnit.DAYS.toNanos(1) / 1_000)"),
        case("ttz", "timetz", "13:51:30.123789+02", ZTi(), "11:51:30.123789Z", src_dt),
        case("tptz", "timetz(3)", "13:51:30.123+02", ZTi(), "11:51:30.123Z", src_dt),
        case("it", "interval", "1 year 2 mons 3 days 04:05:06.78", MD(), duration_micros(1, 2, 3, 4, 5, 6, 780000), src_dt + " (MicroDuration.durationMicros(1, 2, 3, 4, 5, 6, 780000, DAYS_PER_MONTH_AVG))"),
        case("ts_large", "timestamp", "21016-11-04 13:51:30.123456", MT(), epoch_millis(21016, 11, 4, 13, 51, 30) * 1000 + 123456, src_dt),
        case("ts_large_us", "timestamp(6)", "21016-11-04 13:51:30.123457", MT(), epoch_millis(21016, 11, 4, 13, 51, 30) * 1000 + 123457, src_dt),
        case("ts_large_ms", "timestamp(3)", "21016-11-04 13:51:30.124", TSm(), epoch_millis(21016, 11, 4, 13, 51, 30, 124000000), src_dt),
        case("tz_large", "timestamptz", "21016-11-04 06:51:30.123456+00", ZT(), "+21016-11-04T06:51:30.123456Z", src_dt),
        case("ts_max", "timestamp(6)", "294247-01-01 23:59:59.999999", MT(), 9223371331200000000 - 1, src_dt),
        case("ts_min", "timestamp(6)", "4713-12-31 23:59:59.999999 BC", MT(), -210831897600000001, src_dt),
        case("tz_max", "timestamptz", "294247-01-01 23:59:59.999999+00", ZT(), "+294247-01-01T23:59:59.999999Z", src_dt),
        case("tz_min", "timestamptz", "4714-12-31 23:59:59.999999+00 BC", ZT(), "-4713-12-31T23:59:59.999999Z", src_dt),
        case("ts_pinf", "timestamp(6)", "infinity", MT(), 9223372036825200000, src_dt + " (PGStatement.DATE_POSITIVE_INFINITY); " + DOCS + " 'TIMESTAMP type'"),
        case("ts_ninf", "timestamp(6)", "-infinity", MT(), -9223372036832400000, src_dt + " (PGStatement.DATE_NEGATIVE_INFINITY)"),
        case("tz_pinf", "timestamptz", "infinity", ZT(), "infinity", src_dt),
        case("tz_ninf", "timestamptz", "-infinity", ZT(), "-infinity", src_dt),
        case("tz_zero", "timestamptz", "21016-11-04 06:51:30+00", ZT(), "+21016-11-04T06:51:30.000000Z", src_dt),
        case("ts_doc_example", "timestamp", "2018-06-20 15:13:16.945104", MT(), 1529507596945104, DOCS + " 'TIMESTAMP type' example"),
        case("tz_precision0", "timestamptz(0)", "2016-11-04 11:51:30+00", ZT(), "2016-11-04T11:51:30Z",
             DBZ + " ZonedTimestamp.toIsoString: fractional width 0 → ISO_OFFSET_DATE_TIME"),
        case("tz_precision3", "timestamptz(3)", "2016-11-04 11:51:30.1+00", ZT(), "2016-11-04T11:51:30.100Z",
             DBZ + " ZonedTimestamp.toIsoString: fractional width = column scale"),
    ]
}
src_arr_t = RSPIT + " shouldStreamTimeArrayTypesAsKnownTypes / " + ARPT + " schemaAndValuesForTimeArrayTypes"
adaptive["cases"] += [
    case("timea", "_time", "{00:01:02,01:02:03}", array(MTi(), False), [62 * 1_000_000, 3723 * 1_000_000], src_arr_t),
    case("timetza", "_timetz", "{13:51:02+02,14:51:03+02}", array(ZTi(), False), ["11:51:02Z", "12:51:03Z"], src_arr_t),
    case("timestampa", "_timestamp", '{"2020-04-01 00:01:02","2020-04-01 01:02:03"}', array(MT(), False),
         [epoch_millis(2020, 4, 1, 0, 1, 2) * 1000, epoch_millis(2020, 4, 1, 1, 2, 3) * 1000], src_arr_t),
    case("timestamptza", "_timestamptz", '{"2020-04-01 11:51:02+00","2020-04-01 12:51:03+00"}', array(ZT(), False),
         ["2020-04-01T11:51:02.000000Z", "2020-04-01T12:51:03.000000Z"], src_arr_t),
    case("timetza_update", "_timetz", "{00:01:02-04,01:03:04-04}", array(ZTi(), False), ["04:01:02Z", "05:03:04Z"], src_arr_t + " (update)"),
    case("timestampa_update", "_timestamp", '{"2020-04-01 00:01:02","2020-04-25 03:04:05"}', array(MT(), False),
         [epoch_millis(2020, 4, 1, 0, 1, 2) * 1000, epoch_millis(2020, 4, 25, 3, 4, 5) * 1000], src_arr_t + " (update)"),
    case("timestamptza_update", "_timestamptz", '{"2020-04-01 04:01:02+00","2020-04-25 07:04:05+00"}', array(ZT(), False),
         ["2020-04-01T04:01:02.000000Z", "2020-04-25T07:04:05.000000Z"], src_arr_t + " (update)"),
    case("timea_fraction", "_time", "{00:00:01.123456}", array(MTi()), [1_123_000],
         "pgjdbc 42.7.11 TimestampUtils.toTime returns a java.sql.Time (milliseconds), read by Debezium's Conversions.toLocalTime"),
    case("timetza_fraction", "_timetz", "{13:51:02.5+02}", array(ZTi()), ["11:51:02Z"],
         DBZ + " PostgresValueConverter.resolveArrayValue: java.sql.Time.toLocalTime() keeps whole seconds"),
    case("date_array", "_date", "{2016-11-04,2016-11-05,2016-11-06}", array(D()),
         [java_epoch_day(2016, 11, 4), java_epoch_day(2016, 11, 5), java_epoch_day(2016, 11, 6)], ARPT + " schemasAndValuesForArrayTypes"),
]
write(f"{OUT}/temporal-adaptive.json", adaptive)

src_atm = ARPT + " schemaAndValuesForDateTimeTypesAdaptiveTimeMicroseconds"
atm = {
    "description": "time.precision.mode=adaptive_time_microseconds.",
    "settings": {"time.precision.mode": "adaptive_time_microseconds"},
    "cases": [
        case("ts", "timestamp", "2016-11-04 13:51:30.123456", MT(), epoch_micros(2016, 11, 4, 13, 51, 30, 123456), src_atm),
        case("tsneg", "timestamp(6)", "1936-10-25 22:10:12.608", MT(), epoch_micros(1936, 10, 25, 22, 10, 12, 608000), src_atm),
        case("ts_ms", "timestamp(3)", "2016-11-04 13:51:30.123", TSm(), epoch_millis(2016, 11, 4, 13, 51, 30, 123456000), src_atm),
        case("tz", "timestamptz", "2016-11-04 11:51:30.123456+00", ZT(), "2016-11-04T11:51:30.123456Z", src_atm),
        case("date", "date", "2016-11-04", D(), java_epoch_day(2016, 11, 4), src_atm),
        case("ti", "time", "13:51:30", MTi(), (13 * 3600 + 51 * 60 + 30) * 1_000_000, src_atm),
        case("tip", "time(3)", "13:51:30.123", MTi(), ((13 * 3600 + 51 * 60 + 30) * 1000 + 123) * 1000, DOCS + " adaptive_time_microseconds: TIME([P]) → MicroTime"),
        case("ttz", "timetz", "13:51:30.123789+02", ZTi(), "11:51:30.123789Z", src_atm),
        case("it", "interval", "1 year 2 mons 3 days 04:05:06.78", MD(), duration_micros(1, 2, 3, 4, 5, 6.78), src_atm + " (MicroDuration.durationMicros(1, 2, 3, 4, 5, 6.78, DAYS_PER_MONTH_AVG))"),
        case("ts_large", "timestamp", "21016-11-04 13:51:30.123456", MT(), epoch_millis(21016, 11, 4, 13, 51, 30) * 1000 + 123456, src_atm),
        case("ts_large_ms", "timestamp(3)", "21016-11-04 13:51:30.124", TSm(), epoch_millis(21016, 11, 4, 13, 51, 30, 124000000), src_atm),
    ]
}
write(f"{OUT}/temporal-adaptive-time-microseconds.json", atm)

KD = lambda o=True: sch("int32", o, name="org.apache.kafka.connect.data.Date", version=1)
KT = lambda o=True: sch("int32", o, name="org.apache.kafka.connect.data.Time", version=1)
KTS = lambda o=True: sch("int64", o, name="org.apache.kafka.connect.data.Timestamp", version=1)
src_connect = DOCS + " time.precision.mode=connect table (Kafka Connect logical types; JdbcValueConverters.convertTimeToMillisPastMidnightAsDate etc.). The docs list TIME as INT64, the code builds org.apache.kafka.connect.data.Time (int32): code followed"
connect = {
    "description": "time.precision.mode=connect.",
    "settings": {"time.precision.mode": "connect"},
    "cases": [
        case("date", "date", "2016-11-04", KD(), java_epoch_day(2016, 11, 4), src_connect),
        case("time", "time", "13:51:30.123456", KT(), (13 * 3600 + 51 * 60 + 30) * 1000 + 123, src_connect + " (precision lost beyond milliseconds)"),
        case("time3", "time(3)", "13:51:30.123", KT(), (13 * 3600 + 51 * 60 + 30) * 1000 + 123, src_connect),
        case("timestamp", "timestamp", "2016-11-04 13:51:30.123456", KTS(), epoch_millis(2016, 11, 4, 13, 51, 30, 123456000), src_connect),
        case("timestamptz", "timestamptz", "2016-11-04 11:51:30.123456+00", ZT(), "2016-11-04T11:51:30.123456Z", DOCS + " (TIMESTAMPTZ does not depend on time.precision.mode)"),
        case("date_array", "_date", "{2016-11-04}", array(KD()), [java_epoch_day(2016, 11, 4)], PVC + " DATE_ARRAY → temporalPrecisionMode.getDateBuilder()"),
    ]
}
write(f"{OUT}/temporal-connect.json", connect)

src_iso = DOCS + " time.precision.mode=isostring table examples"
iso = {
    "description": "time.precision.mode=isostring.",
    "settings": {"time.precision.mode": "isostring"},
    "cases": [
        case("date", "date", "2017-09-15", named("string", "io.debezium.time.IsoDate"), "2017-09-15Z", src_iso),
        case("time", "time", "04:05:11.789", named("string", "io.debezium.time.IsoTime"), "04:05:11.789Z", src_iso),
        case("timestamp", "timestamp", "2019-07-09 02:28:57.123456", named("string", "io.debezium.time.IsoTimestamp"), "2019-07-09T02:28:57.123456Z", src_iso),
    ]
}
write(f"{OUT}/temporal-isostring.json", iso)

src_micro = DOCS + " time.precision.mode=microseconds table"
src_nano = DOCS + " time.precision.mode=nanoseconds table"
NTS = lambda o=True: named("int64", "io.debezium.time.NanoTimestamp", o)
NTi = lambda o=True: named("int64", "io.debezium.time.NanoTime", o)
micro_nano = {
    "description": "time.precision.mode=microseconds and nanoseconds.",
    "settings": {},
    "cases": [
        case("time3_micro", "time(3)", "13:51:30.123", MTi(), ((13 * 3600 + 51 * 60 + 30) * 1000 + 123) * 1000, src_micro, settings={"time.precision.mode": "microseconds"}),
        case("ts3_micro", "timestamp(3)", "2016-11-04 13:51:30.123", MT(), epoch_micros(2016, 11, 4, 13, 51, 30, 123000), src_micro, settings={"time.precision.mode": "microseconds"}),
        case("date_micro", "date", "2016-11-04", D(), java_epoch_day(2016, 11, 4), src_micro, settings={"time.precision.mode": "microseconds"}),
        case("time_nano", "time", "13:51:30.123456", NTi(), ((13 * 3600 + 51 * 60 + 30) * 1_000_000 + 123456) * 1000, src_nano, settings={"time.precision.mode": "nanoseconds"}),
        case("ts_nano", "timestamp", "2016-11-04 13:51:30.123456", NTS(), epoch_micros(2016, 11, 4, 13, 51, 30, 123456) * 1000, src_nano, settings={"time.precision.mode": "nanoseconds"}),
        case("ts_nano_pinf", "timestamp", "infinity", NTS(), 9223372036854775807, src_nano + " (Long.MAX_VALUE for +infinity)", settings={"time.precision.mode": "nanoseconds"}),
        case("ts_nano_ninf", "timestamp", "-infinity", NTS(), -9223372036854775808, src_nano + " (Long.MIN_VALUE for -infinity)", settings={"time.precision.mode": "nanoseconds"}),
        case("ts_nano_out_of_range_optional", "timestamp", "9999-12-31 00:00:00", NTS(), None,
             DBZ + " JdbcValueConverters.convertTimestampToEpochNanos catches NanoTimestamp's IllegalArgumentException → handleUnknownData → null for an optional column", settings={"time.precision.mode": "nanoseconds"}),
        case("ts_nano_out_of_range_required", "timestamp", "9999-12-31 00:00:00", NTS(False), None,
             DOCS + " nanoseconds IMPORTANT box: values outside ~1677..2262 fail (required column)", settings={"time.precision.mode": "nanoseconds"}, error=True),
    ]
}
write(f"{OUT}/temporal-micro-nano.json", micro_nano)

interval_string = {
    "description": "interval.handling.mode=string.",
    "settings": {"interval.handling.mode": "string"},
    "cases": [
        case("it", "interval", "1 year 2 mons 3 days 04:05:06.78", named("string", "io.debezium.time.Interval"), "P1Y2M3DT4H5M6.78S", ARPT + " schemaAndValuesForIntervalAsString"),
        case("it_zero", "interval", "00:00:00", named("string", "io.debezium.time.Interval"), "P0Y0M0DT0H0M0S", DBZ + " PostgresValueConverter.convertInterval fallback Interval.toIsoString(0, 0, 0, 0, 0, 0) equals a zero interval"),
    ]
}
write(f"{OUT}/interval-string.json", interval_string)
print("temporal ok", duration_micros(1, 2, 3, 4, 5, 6, 780000), duration_micros(1, 2, 3, 4, 5, 6.78))

# ---------------------------------------------------------------- decimals
src_prec = ARPT + " schemasAndValuesForBigDecimalEncodedNumericTypes (INSERT_NUMERIC_DECIMAL_TYPES_STMT_NO_NAN)"
def dcase(name, type, text, scale, prec, plain, src, optional=True, **kw):
    return case(name, type, text, decimal(scale, prec, optional), dec(plain), src, decimal=plain, **kw)
precise = {
    "description": "decimal.handling.mode=precise (the default).",
    "settings": {"decimal.handling.mode": "precise"},
    "cases": [
        dcase("d", "numeric(3,2)", "1.10", 2, 3, "1.10", src_prec),
        dcase("dzs", "numeric(4)", "10", 0, 4, "10", src_prec),
        case("dvs", "numeric", "10.1111", vsd_schema(), vsd("10.1111"), src_prec),
        dcase("d_nn", "numeric(3,2)", "3.30", 2, 3, "3.30", src_prec, optional=False),
        dcase("n", "numeric(6,4)", "22.2200", 4, 6, "22.2200", src_prec),
        dcase("nzs", "numeric(4)", "22", 0, 4, "22", src_prec),
        case("nvs", "numeric", "22.2222", vsd_schema(), vsd("22.2222"), src_prec),
        dcase("d_int", "numeric(3,2)", "1.00", 2, 3, "1.00", src_prec),
        case("dvs_int", "numeric", "10", vsd_schema(), vsd("10"), src_prec),
        dcase("n_int", "numeric(6,4)", "22.0000", 4, 6, "22.0000", src_prec),
        case("nvs_int", "numeric", "22", vsd_schema(), vsd("22"), src_prec),
        case("nvs_trailing_zeros", "numeric", "22.2200", vsd_schema(), vsd("22.22"), PVC + " convertDecimal: stripTrailingZeros for variable scale"),
        case("nvs_hundred", "numeric", "100", vsd_schema(), vsd("100"), PVC + " convertDecimal: stripTrailingZeros then setScale(0) when the scale went negative"),
        case("nvs_negative", "numeric", "-0.000123", vsd_schema(), vsd("-0.000123"), PVC + " convertDecimal (VariableScaleDecimal.fromLogical: unscaledValue().toByteArray())"),
        case("d_nan", "numeric(3,2)", "NaN", decimal(2, 3), None, DBZ + " SpecialValueDecimal.fromLogical: special values throw in precise mode", error=True),
        case("numeric_array", "_numeric(10,2)", "{1.20,3.40,5.60}", array(decimal(2, 10)), [dec("1.20"), dec("3.40"), dec("5.60")], ARPT + " schemasAndValuesForArrayTypes"),
        case("varnumeric_array", "_numeric", "{1.1,2.22,3.333}", array(vsd_schema()), [vsd("1.1"), vsd("2.22"), vsd("3.333")], ARPT + " schemasAndValuesForArrayTypes"),
        case("cost_default", "numeric(12)", "5", decimal(0, 12, False, default=dec("0")), dec("5"),
             DBZ + " PostgresDefaultValueConverterIT.shouldTruncateDefaultValuePrecisionToMatchColumnMaxPrecision (DBZ-7562): default 0.0 on numeric(12,0) → BigDecimal 0 with scale 0",
             default_expression="0.0", decimal="5"),
        case("nvs_default", "numeric", "1", vsd_schema(), vsd("1"), DBZ + " PostgresDefaultValueConverter.parseDefaultValue: Struct defaults are dropped (KAFKA-12694)",
             default_expression="1.5"),
    ]
}
write(f"{OUT}/decimal-precise.json", precise)

src_strd = ARPT + " schemasAndValuesForStringEncodedNumericTypes (decimal.handling.mode=string)"
src_inf = ARPT + " schemasAndValuesForStringEncodedNumericTypesWithInfinity"
S = sch("string")
string_dec = {
    "description": "decimal.handling.mode=string.",
    "settings": {"decimal.handling.mode": "string"},
    "cases": [
        case("d", "numeric(3,2)", "1.10", S, "1.10", src_strd),
        case("dzs", "numeric(4)", "10", S, "10", src_strd),
        case("dvs", "numeric", "10.1111", S, "10.1111", src_strd),
        case("n", "numeric(6,4)", "22.2200", S, "22.2200", src_strd),
        case("nzs", "numeric(4)", "22", S, "22", src_strd),
        case("nvs", "numeric", "22.2222", S, "22.2222", src_strd),
        case("d_int", "numeric(3,2)", "1.00", S, "1.00", src_strd),
        case("dzs_int", "numeric(4)", "10", S, "10", src_strd),
        case("dvs_int", "numeric", "10", S, "10", src_strd),
        case("n_int", "numeric(6,4)", "22.0000", S, "22.0000", src_strd),
        case("nzs_int", "numeric(4)", "22", S, "22", src_strd),
        case("nvs_int", "numeric", "22", S, "22", src_strd),
        case("d_nan", "numeric(3,2)", "NaN", S, "NAN", src_strd),
        case("dzs_nan", "numeric(4)", "NaN", S, "NAN", src_strd),
        case("dvs_nan", "numeric", "NaN", S, "NAN", src_strd),
        case("dvs_pinf", "numeric", "Infinity", S, "POSITIVE_INFINITY", src_inf),
        case("nvs_ninf", "numeric", "-Infinity", S, "NEGATIVE_INFINITY", src_inf),
        case("csh", "money", "$1,234.11", S, "1234.11", PVC + " convertMoney STRING: BigDecimal.toPlainString()"),
    ]
}
write(f"{OUT}/decimal-string.json", string_dec)

src_dbl = ARPT + " schemasAndValuesForDoubleEncodedNumericTypes (decimal.handling.mode=double)"
Dd = sch("double")
double_dec = {
    "description": "decimal.handling.mode=double.",
    "settings": {"decimal.handling.mode": "double"},
    "cases": [
        case("d", "numeric(3,2)", "1.10", Dd, 1.1, src_dbl),
        case("dzs", "numeric(4)", "10", Dd, 10.0, src_dbl),
        case("dvs", "numeric", "10.1111", Dd, 10.1111, src_dbl),
        case("n", "numeric(6,4)", "22.2200", Dd, 22.22, src_dbl),
        case("nzs", "numeric(4)", "22", Dd, 22.0, src_dbl),
        case("nvs", "numeric", "22.2222", Dd, 22.2222, src_dbl),
        case("d_nan", "numeric(3,2)", "NaN", Dd, "NaN", src_dbl),
        case("dzs_nan", "numeric(4)", "NaN", Dd, "NaN", src_dbl),
        case("dvs_nan", "numeric", "NaN", Dd, "NaN", src_dbl),
        case("nvs_pinf", "numeric", "Infinity", Dd, "Infinity", DBZ + " SpecialValueDecimal.toDouble"),
        case("csh", "money", "$1,234.11", Dd, 1234.11, PVC + " convertMoney DOUBLE: BigDecimal.doubleValue()"),
    ]
}
write(f"{OUT}/decimal-double.json", double_dec)

money_digits = {
    "description": "money.fraction.digits.",
    "settings": {"money.fraction.digits": "3"},
    "cases": [
        case("csh3", "money", "$1,234.11", decimal(3), dec("1234.110"), PVC + " moneySchema Decimal.builder(moneyFractionDigits); convertMoney setScale(moneyFractionDigits, HALF_UP)", decimal="1234.110"),
        case("csh0", "money", "$1,234.50", decimal(0), dec("1235"), PVC + " convertMoney setScale(0, HALF_UP)", decimal="1235", settings={"money.fraction.digits": "0"}),
    ]
}
write(f"{OUT}/money-fraction-digits.json", money_digits)

# ---------------------------------------------------------------- hstore
JSONS = named("string", "io.debezium.data.Json")
HMAP = sch("map", True, keys=sch("string", False), values=sch("string", True))
hs_mul_arr = '{"\\"key4\\"=>\\"val4\\", \\"key5\\"=>NULL","\\"key6\\"=>\\"val6\\""}'
hstore_json = {
    "description": "hstore.handling.mode=json (the default). Key order is java.util.HashMap's.",
    "settings": {"hstore.handling.mode": "json"},
    "user_types": USER_TYPES,
    "cases": [
        case("hs", "hstore", '"key"=>"val"', JSONS, '{"key":"val"}', ARPT + " schemaAndValueFieldForJsonEncodedHStoreType"),
        case("hs_mul", "hstore", '"key1"=>"val1", "key2"=>"val2", "key3"=>"val3"', JSONS, '{"key1":"val1","key2":"val2","key3":"val3"}', ARPT + " schemaAndValueFieldForJsonEncodedHStoreTypeWithMultipleValues"),
        case("hsarr", "_hstore", hs_mul_arr, array(JSONS), ['{"key5":null,"key4":"val4"}', '{"key6":"val6"}'], ARPT + " schemaAndValueFieldForJsonEncodedHStoreTypeWithMultipleValues"),
        case("hs_null", "hstore", '"key1"=>"val1", "key2"=>NULL', JSONS, '{"key1":"val1","key2":null}', ARPT + " schemaAndValueFieldForJsonEncodedHStoreTypeWithNullValues"),
        case("hs_special", "hstore", '"key 2"=>" ##123 78", "key_#1"=>"val 1"', JSONS, '{"key_#1":"val 1","key 2":" ##123 78"}', ARPT + " schemaAndValueFieldForJsonEncodedHStoreTypeWithSpcialCharacters"),
        case("hs_toast", "hstore", None, JSONS, '{"__debezium_unavailable_value":"__debezium_unavailable_value"}',
             DBZ + " PostgresDefaultValueConverterIT.shouldSerializeHstoreDefaultAsJsonStringWhenUnavailable (DBZ-7582)", unavailable=True),
    ]
}
write(f"{OUT}/hstore-json.json", hstore_json)
hstore_map = {
    "description": "hstore.handling.mode=map.",
    "settings": {"hstore.handling.mode": "map"},
    "user_types": USER_TYPES,
    "cases": [
        case("hs", "hstore", '"key"=>"val"', HMAP, {"key": "val"}, ARPT + " schemaAndValueFieldForMapEncodedHStoreType"),
        case("hs_mul", "hstore", '"key1"=>"val1", "key2"=>"val2", "key3"=>"val3"', HMAP, {"key1": "val1", "key2": "val2", "key3": "val3"}, ARPT + " schemaAndValueFieldForMapEncodedHStoreTypeWithMultipleValues"),
        case("hsarr", "_hstore", hs_mul_arr, array(HMAP), [{"key4": "val4", "key5": None}, {"key6": "val6"}], ARPT + " schemaAndValueFieldForMapEncodedHStoreTypeWithMultipleValues"),
        case("hs_null", "hstore", '"key1"=>"val1", "key2"=>NULL', HMAP, {"key1": "val1", "key2": None}, ARPT + " schemaAndValueFieldForMapEncodedHStoreTypeWithNullValues"),
        case("hs_special", "hstore", '"key 2"=>" ##123 78", "key_#1"=>"val 1"', HMAP, {"key_#1": "val 1", "key 2": " ##123 78"}, ARPT + " schemaAndValueFieldForMapEncodedHStoreTypeWithSpecialCharacters"),
        case("hs_toast", "hstore", None, HMAP, {"__debezium_unavailable_value": "__debezium_unavailable_value"}, RSPIT + " shouldHandleToastedHstoreInHstoreMapMode; PostgresDefaultValueConverterIT.shouldSerializeHstoreDefaultAsMapWhenUnavailable", unavailable=True),
    ]
}
write(f"{OUT}/hstore-map.json", hstore_map)
print("decimal/hstore ok")

# ---------------------------------------------------------------- arrays
src_arr = ARPT + " schemasAndValuesForArrayTypes (INSERT_ARRAY_TYPES_STMT)"
OS = sch("string")
arrays = {
    "description": "Arrays with default settings.",
    "settings": {},
    "user_types": USER_TYPES,
    "cases": [
        case("int_array", "_int4", "{1,2,3}", array(sch("int32")), [1, 2, 3], src_arr),
        case("bigint_array", "_int8", "{1550166368505037572}", array(sch("int64")), [1550166368505037572], src_arr),
        case("text_array", "_text", "{one,two,three}", array(OS), ["one", "two", "three"], src_arr),
        case("char_array", "_bpchar(10)", '{"cone      ","ctwo      ","cthree    "}', array(OS), ["cone      ", "ctwo      ", "cthree    "], src_arr),
        case("varchar_array", "_varchar(10)", "{vcone,vctwo,vcthree}", array(OS), ["vcone", "vctwo", "vcthree"], src_arr),
        case("citext_array", "_citext", "{four,five,six}", array(OS), ["four", "five", "six"], src_arr),
        case("inet_array", "_inet", "{192.168.2.0/12,192.168.1.1,192.168.0.2/1}", array(OS), ["192.168.2.0/12", "192.168.1.1", "192.168.0.2/1"], src_arr),
        case("cidr_array", "_cidr", "{192.168.100.128/25,192.168.0.0/25,192.168.1.0/24}", array(OS), ["192.168.100.128/25", "192.168.0.0/25", "192.168.1.0/24"], src_arr),
        case("macaddr_array", "_macaddr", "{08:00:2b:01:02:03,08:00:2b:01:02:03,08:00:2b:01:02:03}", array(OS), ["08:00:2b:01:02:03"] * 3, src_arr),
        case("tsrange_array", "_tsrange", '{"[\\"2019-03-31 15:30:00\\",infinity)","[\\"2019-03-31 15:30:00\\",\\"2019-04-30 15:30:00\\"]"}', array(OS),
             ['["2019-03-31 15:30:00",infinity)', '["2019-03-31 15:30:00","2019-04-30 15:30:00"]'], src_arr),
        case("daterange_array", "_daterange", '{"[2019-03-31,infinity)","[2019-03-31,2019-04-30)"}', array(OS), ["[2019-03-31,infinity)", "[2019-03-31,2019-04-30)"], src_arr),
        case("int4range_array", "_int4range", '{"[1,6)","[1,4)"}', array(OS), ["[1,6)", "[1,4)"], src_arr),
        case("numerange_array", "_numrange", '{"[5.3,6.3)","[10.0,20.0)"}', array(OS), ["[5.3,6.3)", "[10.0,20.0)"], src_arr),
        case("int8range_array", "_int8range", '{"[1000000,6000000)","[5000,9000)"}', array(OS), ["[1000000,6000000)", "[5000,9000)"], src_arr),
        case("uuid_array", "_uuid", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", array(named("string", "io.debezium.data.Uuid")),
             ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], src_arr),
        case("json_array", "_json", '{"{\\"bar\\": \\"baz\\"}","{\\"foo\\": \\"qux\\"}"}', array(JSONS), ['{"bar": "baz"}', '{"foo": "qux"}'], src_arr),
        case("jsonb_array", "_jsonb", '{"{\\"bar\\": \\"baz\\"}","{\\"foo\\": \\"qux\\"}"}', array(JSONS), ['{"bar": "baz"}', '{"foo": "qux"}'], src_arr),
        case("oid_array", "_oid", "{3,4000000000}", array(sch("int64")), [3, 4000000000], src_arr),
        case("int_array_nulls", "_int4", "{1,NULL,3}", array(sch("int32")), [1, None, 3], "pgjdbc ArrayDecoding.buildArrayList: unquoted NULL is a null element (element schema optional)"),
        case("text_array_quoted_null", "_text", '{"NULL",NULL,"a,b","c\\\\d"}', array(OS), ["NULL", None, "a,b", "c\\d"], "pgjdbc ArrayDecoding.buildArrayList: quoted \"NULL\" is a string, backslash escapes"),
        case("empty_array", "_int4", "{}", array(sch("int32")), [], "pgjdbc ArrayDecoding: empty array"),
        case("bool_array", "_bool", "{t,f}", array(sch("boolean")), [True, False], PVC + " BOOL_ARRAY → array(OPTIONAL_BOOLEAN_SCHEMA)"),
        case("float_arrays", "_float8", "{1.5,NaN}", array(sch("double")), [1.5, "NaN"], PVC + " FLOAT8_ARRAY → array(OPTIONAL_FLOAT64_SCHEMA)"),
        case("int2_array", "_int2", "{1,-2}", array(sch("int16")), [1, -2], PVC + " INT2_ARRAY → array(OPTIONAL_INT16_SCHEMA)"),
        case("tsvector_array", "_tsvector", "{\"'a' 'b'\"}", array(named("string", "io.debezium.data.Tsvector", optional=False)), ["'a' 'b'"],
             PVC + " default branch: arrayElementSchema → TsVector.builder() (element schema not optional)"),
        case("money_array", "_money", "{$1.00}", None, None, PVC + " schemaBuilder: MONEY_ARRAY returns null (DBZ-459)", unsupported=True, unsupported_kind="SkippedByDebezium"),
        case("interval_array", "_interval", "{00:00:01}", None, None, PVC + " schemaBuilder: INTERVAL_ARRAY returns null (DBZ-459)", unsupported=True, unsupported_kind="SkippedByDebezium"),
        case("nested", "_int4", "{{1,2},{3,4}}", array(sch("int32")), [None, None],
             "sluice deviation (documented): sub-arrays of multi-dimensional arrays are null (Debezium's element converter gets a Java array and nulls it for numeric element types)"),
    ]
}
write(f"{OUT}/arrays.json", arrays)

# ---------------------------------------------------------------- binary modes
def bin_file(mode, ba, arr, unknown, desc_src, unk_src):
    el = sch("bytes") if mode == "bytes" else sch("string")
    return {
        "description": f"binary.handling.mode={mode}, include.unknown.datatypes=true.",
        "settings": {"binary.handling.mode": mode, "include.unknown.datatypes": "true"},
        "cases": [
            case("ba", "bytea", "\\x010203", el, ba, desc_src),
            case("bytea_array", "_bytea", '{"\\\\x000102","\\\\x030405"}', array(el), arr, desc_src),
            case("ccircle", "circle", "<(10,20),10>", el, unknown, unk_src),
        ]
    }
write(f"{OUT}/binary-bytes.json", bin_file("bytes", b64([1, 2, 3]), [b64([0, 1, 2]), b64([3, 4, 5])], b64(b"<(10.0,20.0),10.0>"),
      ARPT + " schemaAndValueForByteaBytes", ARPT + " schemaAndValueForUnknownColumnBytes"))
write(f"{OUT}/binary-base64.json", bin_file("base64", "AQID", ["AAEC", "AwQF"], "PCgxMC4wLDIwLjApLDEwLjA+",
      ARPT + " schemaAndValueForByteaBase64", ARPT + " schemaAndValueForUnknownColumnBase64"))
write(f"{OUT}/binary-base64-url-safe.json", bin_file("base64-url-safe", "AQID", ["AAEC", "AwQF"], "PCgxMC4wLDIwLjApLDEwLjA-",
      ARPT + " schemaAndValueForByteaBase64UrlSafe", ARPT + " schemaAndValueForUnknownColumnBase64UrlSafe"))
write(f"{OUT}/binary-hex.json", bin_file("hex", "010203", ["000102", "030405"], "3c2831302e302c32302e30292c31302e303e",
      ARPT + " schemaAndValueForByteaHex", ARPT + " schemaAndValueForUnknownColumnHex"))

unknown_extra = {
    "description": "include.unknown.datatypes=true: other unknown types and arrays of domains.",
    "settings": {"include.unknown.datatypes": "true"},
    "user_types": USER_TYPES,
    "cases": [
        case("tokens", "_nmtoken", "{bar,baz}", array(sch("bytes", False)), [b64(b"bar"), b64(b"baz")],
             DBZ + " DomainTypesIT.shouldExportDomainTypeInArrayAsUnknown (element schema: binaryMode schema, not optional)"),
        case("lsn", "pg_lsn", "16/B374D848", sch("bytes"), b64(b"16/B374D848"), DBZ + " AbstractColumnValue.asDefault: unknown types are their text, converted by convertBinary"),
    ]
}
write(f"{OUT}/unknown-types.json", unknown_extra)

# ---------------------------------------------------------------- TOAST placeholders and nulls
PH = "__debezium_unavailable_value"
ints = [ord(c) for c in PH]
toast = {
    "description": "Unchanged TOASTed values (pgoutput 'u') with the default unavailable.value.placeholder.",
    "settings": {},
    "user_types": USER_TYPES,
    "cases": [
        case("text", "text", None, sch("string"), PH, RSPIT + " shouldNotPropagateUnchangedToastedData; " + DDIFF, unavailable=True),
        case("mandatory_text_array", "_text", None, array(OS, False), [PH], RSPIT + " shouldHandleToastedArrayColumn", unavailable=True),
        case("varchar_array", "_varchar(100)", None, array(OS), [PH], RSPIT + " shouldHandleToastedArrayColumnCharacterVarying", unavailable=True),
        case("bpchar_array", "_bpchar(100)", None, array(OS), [PH], RSPIT + " shouldHandleToastedArrayColumnBpChar", unavailable=True),
        case("int_array", "_int4", None, array(sch("int32")), ints, RSPIT + " shouldHandleToastedIntegerArrayColumn; " + DDIFF + " toastedValueIntPlaceholder", unavailable=True),
        case("bigint_array", "_int8", None, array(sch("int64")), ints, RSPIT + " shouldHandleToastedBigIntArrayColumn; " + DDIFF + " toastedValueBigintPlaceholder", unavailable=True),
        case("date_array", "_date", None, array(D()), ints, RSPIT + " shouldHandleToastedDateArrayColumn", unavailable=True),
        case("bytea_array", "_bytea", None, array(sch("bytes")), [b64(PH.encode())], RSPIT + " shouldHandleToastedByteArrayColumn", unavailable=True),
        case("json_array", "_json", None, array(JSONS), [PH], RSPIT + " shouldHandleToastedJsonArrayColumn", unavailable=True),
        case("uuid_array", "_uuid", None, array(named("string", "io.debezium.data.Uuid")), ["b68a35a7-17ad-35b3-af2a-ae46edb4545a"],
             RSPIT + " shouldHandleToastedUuidArrayColumn; " + DDIFF + " TOASTED_VALUE_UUID_STRING", unavailable=True),
        case("bytea", "bytea", None, sch("bytes"), b64(PH.encode()), DDIFF + " mandatoryToastedValueBinaryPlaceholder; " + PVC + " convertBinaryToBytes", unavailable=True),
        case("bytea_hex", "bytea", None, sch("string"), PH, RSPIT + " shouldHandleToastedByteaColumnInHexMode (DBZ-7599)", unavailable=True,
             settings={"binary.handling.mode": "hex"}),
        case("jsonb", "jsonb", None, JSONS, PH, PVC + " convertString", unavailable=True),
        case("numeric_string", "numeric", None, sch("string"), PH, PVC + " handleUnknownData → placeholder string", unavailable=True, settings={"decimal.handling.mode": "string"}),
        case("custom_placeholder", "text", None, sch("string"), "N/A", DOCS + " unavailable.value.placeholder", unavailable=True,
             settings={"unavailable.value.placeholder": "N/A"}),
    ]
}
write(f"{OUT}/toast-unavailable.json", toast)
print("arrays/binary/toast ok")

# ---------------------------------------------------------------- defaults and nulls
src_dvc = DBZ + " PostgresDefaultValueConverterIT (createTableAndInsertData / assertDefaultValueChangeRecord)"
defaults = {
    "description": "Schema default values from column default expressions (PostgresDefaultValueConverter), and values for SQL NULL in required columns.",
    "settings": {},
    "user_types": USER_TYPES + [row(16471, "Status", "e", "E", labels=["DRAFT", "SUBMITTED", "APPROVED", "REJECTED"], nsp="s1")],
    "cases": [
        case("dint", "int4", "1", sch("int32"), 1, src_dvc, default_expression="NULL::integer"),
        case("dvc1", "varchar(64)", "x", sch("string"), "x", src_dvc, default_expression="NULL::character varying"),
        case("dvc2", "varchar(64)", "x", sch("string", default="NULL"), "x", src_dvc, default_expression="'NULL'::character varying"),
        case("dvc3", "varchar(64)", "x", sch("string", default="MYVALUE"), "x", src_dvc, default_expression="'MYVALUE'::character varying"),
        case("dvc5", "varchar(64)", "x", sch("string", default="NULL::character varying"), "x", src_dvc, default_expression="'NULL::character varying'::character varying"),
        case("dt1", "timestamp", "2020-01-01 00:00:00", sch("int64", name="io.debezium.time.MicroTimestamp", version=1, default=0), epoch_micros(2020, 1, 1, 0, 0, 0), src_dvc, default_expression="CURRENT_TIMESTAMP"),
        case("dt2", "date", "2020-01-01", sch("int32", name="io.debezium.time.Date", version=1, default=0), java_epoch_day(2020, 1, 1), src_dvc, default_expression="CURRENT_DATE"),
        case("dt3", "time", "00:00:01", sch("int64", name="io.debezium.time.MicroTime", version=1, default=0), 1_000_000, src_dvc, default_expression="CURRENT_TIME"),
        case("int8_trim", "int8", "1", sch("int64", default=1), 1, DBZ + " connection/PostgresDefaultValueConverterIT.shouldTrimNumericalDefaultValueAndShouldNotTrimNonNumericalDefaultValue", default_expression=" 1 "),
        case("text_no_trim", "text", "1", sch("string", default=" 1 "), "1", DBZ + " connection/PostgresDefaultValueConverterIT.shouldTrimNumericalDefaultValueAndShouldNotTrimNonNumericalDefaultValue", default_expression=" 1 "),
        case("numeric_null", "numeric(19,4)", "1.0000", decimal(4, 19), dec("1.0000"), DBZ + " connection/PostgresDefaultValueConverterIT.shouldReturnNullForNumericDefaultValue (DBZ-4137)",
             default_expression="NULL::numeric", decimal="1.0000"),
        case("uuid_fn", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", named("string", "io.debezium.data.Uuid", optional=False, default="00000000-0000-0000-0000-000000000000"),
             "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", DBZ + " PostgresDefaultValueConverterIT.testShouldHandleDefaultValueFunctionsWithSchemaPrefixes (DBZ-5340): uuid default from a function → nil UUID",
             default_expression="s2.tst_generate_random_uuid()"),
        case("status", "Status", "DRAFT", named("string", "io.debezium.data.Enum", optional=False, params={"allowed": "DRAFT,SUBMITTED,APPROVED,REJECTED"}, default="DRAFT"),
             "DRAFT", DBZ + " PostgresDefaultValueConverterIT.shouldHandleQuotedEnumTypeDefaultValues (debezium/dbz#1334)", default_expression="'DRAFT'::s1.\"Status\""),
        case("hstore_default", "hstore", '"key"=>"v"', named("string", "io.debezium.data.Json", optional=False), '{"key":"v"}',
             DBZ + " PostgresDefaultValueConverterIT.shouldSerializeHstoreDefaultAsJsonStringWhenUnavailable: schema equals Json.schema() (no default for hstore)", default_expression="''::hstore"),
        case("null_int_required", "int4", None, sch("int32", False), 0, DBZ + " JdbcValueConverters.convertInteger fallback 0 for a null in a required column", null=True),
        case("null_ts_required", "timestamptz", None, named("string", "io.debezium.time.ZonedTimestamp", optional=False), "1970-01-01T00:00:00Z",
             DBZ + " JdbcValueConverters.fallbackTimestampWithTimeZone", null=True),
        case("null_optional", "int4", None, sch("int32"), None, DBZ + " JdbcValueConverters.convertValue: null for an optional column", null=True),
        case("null_required_default", "int4", None, sch("int32", False, default=0), 0, DBZ + " JdbcValueConverters.convertValue: schema default for a required column",
             null=True, default_expression="nextval('t_id_seq'::regclass)"),
    ]
}
write(f"{OUT}/defaults-and-nulls.json", defaults)
print("defaults ok")
