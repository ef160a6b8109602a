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
        // "error connecting to server" alone does not say why.
        None => match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    };
    ConnectError::new(kind, format!("{what}: {detail}"))
}

type TlsCache = std::sync::Mutex<HashMap<(String, Option<std::path::PathBuf>), LazyTls>>;

/// How to build the TLS connector of one `sslmode` (libpq's semantics:
/// `allow`/`prefer`/`require` verify nothing, unless `require` has a root
/// certificate, which makes it `verify-ca`).
struct TlsSpec {
    verify_chain: bool,
    verify_hostname: bool,
    root: Option<native_tls::Certificate>,
    built: std::sync::OnceLock<native_tls::TlsConnector>,
}

impl TlsSpec {
    fn connector(&self) -> Result<native_tls::TlsConnector, native_tls::Error> {
        if let Some(c) = self.built.get() {
            return Ok(c.clone());
        }
        let mut builder = native_tls::TlsConnector::builder();
        if !self.verify_chain {
            builder
                .danger_accept_invalid_certs(true)
                .disable_built_in_roots(true);
        }
        if !self.verify_hostname {
            builder.danger_accept_invalid_hostnames(true);
        }
        if let Some(root) = &self.root {
            // As libpq: only the configured root is trusted.
            builder
                .add_root_certificate(root.clone())
                .disable_built_in_roots(true);
        }
        let connector = builder.build()?;
        Ok(self.built.get_or_init(|| connector).clone())
    }
}

/// A `MakeTlsConnect` that builds its native-tls connector on the first
/// handshake: the server answering the SSLRequest with 'N' costs nothing.
#[derive(Clone)]
struct LazyTls {
    spec: std::sync::Arc<TlsSpec>,
}

impl<S> tokio_postgres::tls::MakeTlsConnect<S> for LazyTls
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = postgres_native_tls::TlsStream<S>;
    type TlsConnect = LazyTlsConnect;
    type Error = native_tls::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<LazyTlsConnect, native_tls::Error> {
        Ok(LazyTlsConnect {
            spec: self.spec.clone(),
            domain: domain.to_string(),
        })
    }
}

struct LazyTlsConnect {
    spec: std::sync::Arc<TlsSpec>,
    domain: String,
}

type TlsFuture<S> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<postgres_native_tls::TlsStream<S>, native_tls::Error>,
            > + Send,
    >,
>;

impl<S> tokio_postgres::tls::TlsConnect<S> for LazyTlsConnect
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = postgres_native_tls::TlsStream<S>;
    type Error = native_tls::Error;
    type Future = TlsFuture<S>;

    fn connect(self, stream: S) -> TlsFuture<S> {
        Box::pin(async move {
            let connector = self.spec.connector()?;
            tokio_postgres::tls::TlsConnect::connect(
                postgres_native_tls::TlsConnector::new(connector, &self.domain),
                stream,
            )
            .await
        })
    }
}

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
            let verifies = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
                || (mode == SslMode::Require && settings.ssl_root_cert.is_some());
            config.ssl_mode(match mode {
                SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                _ => tokio_postgres::config::SslMode::Require,
            });
            let root = match settings.ssl_root_cert.as_ref().filter(|_| verifies) {
                None => None,
                Some(path) => {
                    let pem = std::fs::read(path).map_err(|e| {
                        ConnectError::io(
                            format!("reading database.sslrootcert {}", path.display()),
                            e,
                        )
                    })?;
                    Some(native_tls::Certificate::from_pem(&pem).map_err(|e| {
                        ConnectError::config(format!(
                            "database.sslrootcert {}: {e}",
                            path.display()
                        ))
                    })?)
                }
            };
            // One lazily built connector per setting, shared by every
            // connection: building loads the system's CA bundle, which a
            // server without TLS (sslmode=prefer) never needs.
            let cache_key = (format!("{mode:?}"), settings.ssl_root_cert.clone());
            let tls = TLS_CONNECTORS
                .lock()
                .expect("tls cache")
                .entry(cache_key)
                .or_insert_with(|| LazyTls {
                    spec: std::sync::Arc::new(TlsSpec {
                        verify_chain: verifies,
                        verify_hostname: mode == SslMode::VerifyFull,
                        root,
                        built: std::sync::OnceLock::new(),
                    }),
                })
                .clone();
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
