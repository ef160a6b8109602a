//! The registry of PostgreSQL types: the built-in ones by OID, plus the
//! database's own (enums, domains, extension types such as `hstore`, and the
//! arrays of those) loaded from the catalog with [`TypeRegistry::CATALOG_QUERY`].

use std::collections::HashMap;

use super::builtin::BUILTIN_TYPES;

/// What kind of type a [`PgType`] is (from `pg_type.typtype` and
/// `typcategory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// A base type (`typtype = 'b'`) that is not an array.
    Base,
    /// An enum, with its labels in `enumsortorder`.
    Enum(Vec<String>),
    /// A domain over `base_oid`, with the domain's type modifier (`typtypmod`,
    /// -1 for none; `NUMERIC(10,2)` of `CREATE DOMAIN d AS NUMERIC(10,2)`).
    Domain { base_oid: u32, base_typmod: i32 },
    /// An array (`typcategory = 'A'`) of `elem_oid`.
    Array { elem_oid: u32 },
    /// A composite (row) type.
    Composite,
    /// A range type.
    Range,
    /// Anything else (multiranges, pseudo-types).
    Other,
}

/// One PostgreSQL type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgType {
    pub oid: u32,
    /// `typname` (`int4`, `_text`, `mood`, …).
    pub name: String,
    /// `nspname` of `typnamespace` (`pg_catalog` for built-in types).
    pub namespace: String,
    pub kind: TypeKind,
    /// `typcategory` (`N`, `S`, `A`, …), as an ASCII byte.
    pub category: u8,
}

impl PgType {
    /// `namespace.name`, or just the name for `pg_catalog` types.
    pub fn qualified_name(&self) -> String {
        if self.namespace == "pg_catalog" || self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.namespace, self.name)
        }
    }
}

/// One row of [`TypeRegistry::CATALOG_QUERY`], as plain data (so the registry
/// can be filled without a server, e.g. in tests or from the simple-query
/// protocol's text rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub oid: u32,
    pub typname: String,
    pub nspname: String,
    /// `typtype`: `b`, `c`, `d`, `e`, `p`, `r` or `m`.
    pub typtype: u8,
    /// `typcategory`.
    pub typcategory: u8,
    /// `typelem` (0 when not an array).
    pub typelem: u32,
    /// `typbasetype` (0 when not a domain).
    pub typbasetype: u32,
    /// `typtypmod` (-1 when none).
    pub typtypmod: i32,
    /// Enum labels ordered by `enumsortorder`; `None` for non-enums.
    pub enum_labels: Option<Vec<String>>,
}

/// A catalog row that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog row {row}: column {column}: {message}")]
    Column {
        row: usize,
        column: &'static str,
        message: String,
    },
}

/// Extension types that have no fixed OID and are recognised by name, as
/// Debezium's `TypeRegistry` does (the last type of that name wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ExtensionType {
    Hstore,
    HstoreArray,
    Ltree,
    LtreeArray,
    Citext,
    CitextArray,
    Isbn,
    // Recognised only to report them as not supported by sluice.
    Geometry,
    GeometryArray,
    Geography,
    GeographyArray,
    Vector,
    HalfVector,
    SparseVector,
}

impl ExtensionType {
    fn from_name(name: &str) -> Option<ExtensionType> {
        Some(match name {
            "hstore" => ExtensionType::Hstore,
            "_hstore" => ExtensionType::HstoreArray,
            "ltree" => ExtensionType::Ltree,
            "_ltree" => ExtensionType::LtreeArray,
            "citext" => ExtensionType::Citext,
            "_citext" => ExtensionType::CitextArray,
            "isbn" => ExtensionType::Isbn,
            "geometry" => ExtensionType::Geometry,
            "_geometry" => ExtensionType::GeometryArray,
            "geography" => ExtensionType::Geography,
            "_geography" => ExtensionType::GeographyArray,
            "vector" => ExtensionType::Vector,
            "halfvec" => ExtensionType::HalfVector,
            "sparsevec" => ExtensionType::SparseVector,
            _ => return None,
        })
    }
}

/// PostgreSQL types by OID.
#[derive(Debug, Clone, Default)]
pub struct TypeRegistry {
    types: HashMap<u32, PgType>,
    extensions: HashMap<ExtensionType, u32>,
    by_oid_extension: HashMap<u32, ExtensionType>,
}

impl TypeRegistry {
    /// One query that returns every type the registry needs beyond the
    /// built-in `pg_catalog` ones: enums (with their labels in sort order),
    /// domains, extension types (`hstore`, `ltree`, `citext`, `isbn`, …),
    /// standalone composite and range types, and the arrays of all of these.
    /// Row types of tables and their arrays are left out. Columns:
    /// `oid int8, typname text, nspname text, typtype text, typcategory text,
    /// typelem int8, typbasetype int8, typtypmod int4, enum_labels text[]`.
    pub const CATALOG_QUERY: &'static str = "\
SELECT t.oid::int8 AS oid, t.typname::text AS typname, n.nspname::text AS nspname, \
t.typtype::text AS typtype, t.typcategory::text AS typcategory, t.typelem::int8 AS typelem, \
t.typbasetype::int8 AS typbasetype, t.typtypmod AS typtypmod, \
CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END AS enum_labels \
FROM pg_catalog.pg_type t \
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
LEFT JOIN pg_catalog.pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem \
WHERE (t.oid >= 16384 OR n.nspname <> 'pg_catalog') \
AND n.nspname <> 'pg_toast' AND t.typtype <> 'p' \
AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c') \
AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = et.typrelid AND c.relkind <> 'c') \
ORDER BY t.oid";

    /// A registry holding PostgreSQL 15's built-in types.
    pub fn builtin() -> Self {
        let mut registry = TypeRegistry::default();
        for &(oid, name, typtype, category, elem) in BUILTIN_TYPES {
            let kind = kind_of(typtype, category, elem, 0, -1, None);
            registry.insert(PgType {
                oid,
                name: name.to_string(),
                namespace: "pg_catalog".to_string(),
                kind,
                category,
            });
        }
        registry
    }

    /// The type with this OID.
    pub fn get(&self, oid: u32) -> Option<&PgType> {
        self.types.get(&oid)
    }

    /// The type named `name` in `namespace`.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&PgType> {
        self.types
            .values()
            .find(|t| t.name == name && t.namespace == namespace)
    }

    /// Number of known types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Always false: a registry has at least the built-in types.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The OID of the `hstore` type, once loaded from the catalog.
    pub fn hstore_oid(&self) -> Option<u32> {
        self.extensions.get(&ExtensionType::Hstore).copied()
    }

    /// The OID of the `ltree` type, once loaded from the catalog.
    pub fn ltree_oid(&self) -> Option<u32> {
        self.extensions.get(&ExtensionType::Ltree).copied()
    }

    /// The OID of the `citext` type, once loaded from the catalog.
    pub fn citext_oid(&self) -> Option<u32> {
        self.extensions.get(&ExtensionType::Citext).copied()
    }

    pub(crate) fn extension(&self, oid: u32) -> Option<ExtensionType> {
        self.by_oid_extension.get(&oid).copied()
    }

    /// Adds (or replaces) one type.
    pub fn insert(&mut self, ty: PgType) {
        if let Some(ext) = ExtensionType::from_name(&ty.name) {
            if let Some(previous) = self.extensions.insert(ext, ty.oid) {
                self.by_oid_extension.remove(&previous);
            }
            self.by_oid_extension.insert(ty.oid, ext);
        }
        self.types.insert(ty.oid, ty);
    }

    /// Adds one row of [`CATALOG_QUERY`](Self::CATALOG_QUERY).
    pub fn add_catalog_row(&mut self, row: CatalogRow) {
        let kind = kind_of(
            row.typtype,
            row.typcategory,
            row.typelem,
            row.typbasetype,
            row.typtypmod,
            row.enum_labels,
        );
        self.insert(PgType {
            oid: row.oid,
            name: row.typname,
            namespace: row.nspname,
            kind,
            category: row.typcategory,
        });
    }

    /// Adds the rows of [`CATALOG_QUERY`](Self::CATALOG_QUERY) as returned
    /// by `tokio_postgres::Client::query`. Returns how many types were added.
    pub fn add_catalog_rows(
        &mut self,
        rows: &[tokio_postgres::Row],
    ) -> Result<usize, CatalogError> {
        let mut parsed = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            parsed.push(catalog_row_from(i, row)?);
        }
        let n = parsed.len();
        for row in parsed {
            self.add_catalog_row(row);
        }
        Ok(n)
    }
}

fn kind_of(
    typtype: u8,
    category: u8,
    elem: u32,
    basetype: u32,
    typmod: i32,
    enum_labels: Option<Vec<String>>,
) -> TypeKind {
    match typtype {
        b'e' => TypeKind::Enum(enum_labels.unwrap_or_default()),
        b'd' => TypeKind::Domain {
            base_oid: basetype,
            base_typmod: typmod,
        },
        // Debezium treats every type of category 'A' as an array.
        _ if category == b'A' && elem != 0 => TypeKind::Array { elem_oid: elem },
        b'c' => TypeKind::Composite,
        b'r' => TypeKind::Range,
        b'b' => TypeKind::Base,
        _ => TypeKind::Other,
    }
}

fn catalog_row_from(i: usize, row: &tokio_postgres::Row) -> Result<CatalogRow, CatalogError> {
    fn err(row: usize, column: &'static str, e: impl std::fmt::Display) -> CatalogError {
        CatalogError::Column {
            row,
            column,
            message: e.to_string(),
        }
    }
    fn oid(i: usize, row: &tokio_postgres::Row, column: &'static str) -> Result<u32, CatalogError> {
        let v: i64 = row.try_get(column).map_err(|e| err(i, column, e))?;
        u32::try_from(v).map_err(|e| err(i, column, e))
    }
    fn byte(i: usize, row: &tokio_postgres::Row, column: &'static str) -> Result<u8, CatalogError> {
        let v: String = row.try_get(column).map_err(|e| err(i, column, e))?;
        match v.as_bytes() {
            [b] => Ok(*b),
            _ => Err(err(i, column, format!("expected one character, got {v:?}"))),
        }
    }
    Ok(CatalogRow {
        oid: oid(i, row, "oid")?,
        typname: row.try_get("typname").map_err(|e| err(i, "typname", e))?,
        nspname: row.try_get("nspname").map_err(|e| err(i, "nspname", e))?,
        typtype: byte(i, row, "typtype")?,
        typcategory: byte(i, row, "typcategory")?,
        typelem: oid(i, row, "typelem")?,
        typbasetype: oid(i, row, "typbasetype")?,
        typtypmod: row
            .try_get("typtypmod")
            .map_err(|e| err(i, "typtypmod", e))?,
        enum_labels: row
            .try_get::<_, Option<Vec<String>>>("enum_labels")
            .map_err(|e| err(i, "enum_labels", e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_knows_core_types() {
        let r = TypeRegistry::builtin();
        assert_eq!(r.get(23).unwrap().name, "int4");
        assert_eq!(r.get(1007).unwrap().kind, TypeKind::Array { elem_oid: 23 });
        assert_eq!(r.get(3904).unwrap().kind, TypeKind::Range);
        assert_eq!(
            r.get(19).unwrap().kind,
            TypeKind::Base,
            "name is not an array"
        );
        assert!(r.get(16384).is_none());
        assert!(r.hstore_oid().is_none());
    }

    #[test]
    fn catalog_rows_add_user_types() {
        let mut r = TypeRegistry::builtin();
        r.add_catalog_row(CatalogRow {
            oid: 16500,
            typname: "mood".into(),
            nspname: "public".into(),
            typtype: b'e',
            typcategory: b'E',
            typelem: 0,
            typbasetype: 0,
            typtypmod: -1,
            enum_labels: Some(vec!["sad".into(), "ok".into()]),
        });
        r.add_catalog_row(CatalogRow {
            oid: 16600,
            typname: "hstore".into(),
            nspname: "public".into(),
            typtype: b'b',
            typcategory: b'U',
            typelem: 0,
            typbasetype: 0,
            typtypmod: -1,
            enum_labels: None,
        });
        assert_eq!(
            r.get(16500).unwrap().kind,
            TypeKind::Enum(vec!["sad".into(), "ok".into()])
        );
        assert_eq!(r.hstore_oid(), Some(16600));
        assert_eq!(r.find("public", "mood").unwrap().oid, 16500);
        assert_eq!(r.get(16500).unwrap().qualified_name(), "public.mood");
    }
}
