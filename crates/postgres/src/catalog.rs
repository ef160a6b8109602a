//! Ordinary (non-replication) queries: connecting, table metadata,
//! publications, slots.

use std::collections::HashMap;

use sluice_connect_api::{ConnectError, ErrorKind};
use tokio_postgres::Client;

use crate::replication::SslMode;

/// Connection settings shared by the query and replication connections.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub sslmode: SslMode,
    pub ssl_root_cert: Option<std::path::PathBuf>,
}

/// Maps a tokio-postgres error to a ConnectError of the right kind.
pub fn pg_error(what: &str, e: tokio_postgres::Error) -> ConnectError {
    let kind = match e.code() {
        Some(code) => crate::replication::kind_for_sqlstate(code.code()),
        None if e.is_closed() => ErrorKind::Connection,
        None => match e.as_db_error() {
            Some(_) => ErrorKind::Protocol,
            None => ErrorKind::Connection,
        },
    };
    let detail = match e.as_db_error() {
        Some(db) => format!("ERROR {} {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    ConnectError::new(kind, format!("{what}: {detail}"))
}

type TlsCache = std::sync::Mutex<
    HashMap<(String, Option<std::path::PathBuf>), postgres_native_tls::MakeTlsConnector>,
>;

static TLS_CONNECTORS: std::sync::LazyLock<TlsCache> = std::sync::LazyLock::new(Default::default);

/// Opens a query connection; the connection task runs in the background.
pub async fn connect(
    settings: &ConnectSettings,
    application_name: &str,
) -> Result<Client, ConnectError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&settings.host)
        .port(settings.port)
        .user(&settings.user)
        .dbname(&settings.dbname)
        .application_name(application_name)
        .connect_timeout(std::time::Duration::from_secs(30));
    if let Some(pw) = &settings.password {
        config.password(pw);
    }
    let what = format!(
        "connecting to {}:{} as {}",
        settings.host, settings.port, settings.user
    );
    match settings.sslmode {
        SslMode::Disable => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, conn) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| pg_error(&what, e))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("query connection ended: {e}");
                }
            });
            Ok(client)
        }
        mode => {
            let mut builder = native_tls::TlsConnector::builder();
            match mode {
                SslMode::Prefer | SslMode::Require => {
                    builder
                        .danger_accept_invalid_certs(true)
                        .danger_accept_invalid_hostnames(true);
                    config.ssl_mode(if mode == SslMode::Prefer {
                        tokio_postgres::config::SslMode::Prefer
                    } else {
                        tokio_postgres::config::SslMode::Require
                    });
                }
                SslMode::VerifyCa => {
                    builder.danger_accept_invalid_hostnames(true);
                    config.ssl_mode(tokio_postgres::config::SslMode::Require);
                }
                _ => {
                    config.ssl_mode(tokio_postgres::config::SslMode::Require);
                }
            }
            if let Some(path) = &settings.ssl_root_cert {
                let pem = std::fs::read(path).map_err(|e| {
                    ConnectError::io(
                        format!("reading database.sslrootcert {}", path.display()),
                        e,
                    )
                })?;
                let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| {
                    ConnectError::config(format!("database.sslrootcert {}: {e}", path.display()))
                })?;
                builder.add_root_certificate(cert);
            }
            // Building a TLS connector loads the system's CA bundle (~45 ms):
            // build it once per setting and reuse it for every connection.
            let cache_key = (format!("{mode:?}"), settings.ssl_root_cert.clone());
            let cached = TLS_CONNECTORS
                .lock()
                .expect("tls cache")
                .get(&cache_key)
                .cloned();
            let tls = match cached {
                Some(tls) => tls,
                None => {
                    let connector = builder
                        .build()
                        .map_err(|e| ConnectError::config(format!("TLS setup failed: {e}")))?;
                    let tls = postgres_native_tls::MakeTlsConnector::new(connector);
                    TLS_CONNECTORS
                        .lock()
                        .expect("tls cache")
                        .insert(cache_key, tls.clone());
                    tls
                }
            };
            let (client, conn) = config.connect(tls).await.map_err(|e| pg_error(&what, e))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("query connection ended: {e}");
                }
            });
            Ok(client)
        }
    }
}

/// What the catalog says about one column of a table.
#[derive(Debug, Clone, Default)]
pub struct ColumnMeta {
    pub not_null: bool,
    pub default_expr: Option<String>,
    pub comment: Option<String>,
    /// Position in the primary key (orders the key fields).
    pub pk_position: Option<usize>,
}

/// Column metadata of a table, by column name.
pub async fn table_columns(
    client: &Client,
    relation_oid: u32,
) -> Result<HashMap<String, ColumnMeta>, ConnectError> {
    let rows = client
        .query(
            "SELECT a.attname::text, a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), \
             pg_catalog.col_description(a.attrelid, a.attnum), \
             (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_catalog.pg_index i \
              WHERE i.indrelid = a.attrelid AND i.indisprimary) \
             FROM pg_catalog.pg_attribute a \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped",
            &[&i64::from(relation_oid)],
        )
        .await
        .map_err(|e| {
            pg_error(
                &format!("reading the columns of relation {relation_oid}"),
                e,
            )
        })?;
    let mut out = HashMap::new();
    for row in rows {
        let name: String = row.get(0);
        let pk: Option<i32> = row.get(4);
        out.insert(
            name,
            ColumnMeta {
                not_null: row.get(1),
                default_expr: row.get(2),
                comment: row.get(3),
                pk_position: pk.map(|p| p as usize),
            },
        );
    }
    Ok(out)
}

/// Quotes an identifier for SQL.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
