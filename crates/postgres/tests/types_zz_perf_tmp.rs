use sluice_postgres::types::{column_mapping, TypeRegistry, TypeSettings};
use std::time::Instant;

#[test]
#[ignore]
fn perf() {
    let reg = TypeRegistry::builtin();
    let s = TypeSettings::default();
    let cases: &[(&str, u32, i32, &str)] = &[
        ("int4", 23, -1, "123456"),
        ("int8", 20, -1, "1234567890123"),
        ("bool", 16, -1, "t"),
        ("float8", 701, -1, "4.44"),
        ("text", 25, -1, "some text of moderate length"),
        ("varchar", 1043, 36, "hello world"),
        ("uuid", 2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ("jsonb", 3802, -1, "{\"bar\": \"baz\", \"n\": 1}"),
        ("numeric(10,2)", 1700, ((10 << 16) | 2) + 4, "12345.67"),
        ("numeric", 1700, -1, "10.1111"),
        ("date", 1082, -1, "2016-11-04"),
        ("time", 1083, -1, "13:51:30.123456"),
        ("timestamp", 1114, -1, "2016-11-04 13:51:30.123456"),
        ("timestamptz", 1184, -1, "2016-11-04 13:51:30.123456+02"),
        ("interval", 1186, -1, "1 year 2 mons 3 days 04:05:06.78"),
        ("int4[]", 1007, -1, "{1,2,3,4,5,6,7,8,9,10}"),
        ("bytea", 17, -1, "\\x000102030405060708090a0b0c0d0e0f"),
    ];
    for (name, oid, typmod, text) in cases {
        let m = column_mapping(&reg, *oid, *typmod, true, &s).unwrap();
        let n = 2_000_000;
        let t = Instant::now();
        let mut keep = 0usize;
        for _ in 0..n {
            let v = m.convert_text(std::hint::black_box(text.as_bytes())).unwrap();
            keep += std::mem::size_of_val(&v);
            std::hint::black_box(v);
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("{name:16} {ns:8.1} ns {keep}");
    }
}
