//! Opening a replication connection: TCP, the SSL negotiation, the startup
//! message and authentication (cleartext, MD5, SCRAM-SHA-256).

use std::io;

use postgres_protocol::authentication::sasl::{
    ChannelBinding, ScramSha256, SCRAM_SHA_256, SCRAM_SHA_256_PLUS,
};
use postgres_protocol::message::frontend;
use sluice_connect_api::ErrorKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::{ReplicationError, ServerError};
use super::wire::{Transport, Wire};
use super::{ReplicationConfig, SslMode};

/// What the startup phase learned about the session.
pub(crate) struct Session {
    pub wire: Wire,
    pub parameters: Vec<(String, String)>,
    pub backend_pid: i32,
}

/// Connects, negotiates TLS per `sslmode`, authenticates and waits for the
/// first ReadyForQuery.
pub(crate) async fn connect(config: &ReplicationConfig) -> Result<Session, ReplicationError> {
    if config.connect_timeout.is_zero() {
        connect_inner(config).await
    } else {
        match tokio::time::timeout(config.connect_timeout, connect_inner(config)).await {
            Ok(result) => result,
            Err(_) => Err(ReplicationError::io(
                format!("connecting to {}", peer(config)),
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("timed out after {:?}", config.connect_timeout),
                ),
            )),
        }
    }
}

fn peer(config: &ReplicationConfig) -> String {
    if config.host.contains(':') {
        format!("[{}]:{}", config.host, config.port)
    } else {
        format!("{}:{}", config.host, config.port)
    }
}

async fn connect_inner(config: &ReplicationConfig) -> Result<Session, ReplicationError> {
    match config.sslmode {
        SslMode::Disable => startup(config, Transport::Plain(tcp(config).await?)).await,
        SslMode::Allow => {
            // Plain first; TLS if the server turns the plain connection down
            // (e.g. a `hostssl`-only pg_hba.conf).
            match startup(config, Transport::Plain(tcp(config).await?)).await {
                Err(e) if e.kind() == ErrorKind::Authentication && e.sqlstate().is_some() => {
                    tracing::debug!(peer = %peer(config), "plain connection refused ({e}); trying TLS (sslmode=allow)");
                    match negotiate_tls(config, tcp(config).await?).await? {
                        Negotiated::Tls(tls) => startup(config, tls).await,
                        Negotiated::Refused(_) => Err(e),
                    }
                }
                other => other,
            }
        }
        SslMode::Prefer => {
            match negotiate_tls(config, tcp(config).await?).await {
                Ok(Negotiated::Tls(tls)) => match startup(config, tls).await {
                    // As libpq: a server that rejects the TLS connection
                    // (e.g. a `hostnossl` pg_hba.conf line) gets a plain one.
                    Err(e) if e.kind() == ErrorKind::Authentication && e.sqlstate().is_some() => {
                        tracing::debug!(peer = %peer(config), "TLS connection refused ({e}); trying unencrypted (sslmode=prefer)");
                        match startup(config, Transport::Plain(tcp(config).await?)).await {
                            Ok(session) => Ok(session),
                            // Report the TLS attempt's error if plain fails the same way.
                            Err(plain) if plain.kind() == ErrorKind::Authentication => Err(e),
                            Err(plain) => Err(plain),
                        }
                    }
                    other => other,
                },
                Ok(Negotiated::Refused(plain)) => {
                    tracing::debug!(peer = %peer(config), "server does not support TLS; continuing unencrypted (sslmode=prefer)");
                    startup(config, Transport::Plain(plain)).await
                }
                Err(e) if e.kind() != ErrorKind::Timeout => {
                    tracing::warn!(peer = %peer(config), "TLS handshake failed ({e}); reconnecting unencrypted (sslmode=prefer)");
                    startup(config, Transport::Plain(tcp(config).await?)).await
                }
                Err(e) => Err(e),
            }
        }
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            match negotiate_tls(config, tcp(config).await?).await? {
                Negotiated::Tls(tls) => startup(config, tls).await,
                Negotiated::Refused(_) => Err(ReplicationError::config(format!(
                    "server {} does not support SSL, but database.sslmode={} requires it",
                    peer(config),
                    config.sslmode
                ))),
            }
        }
    }
}

async fn tcp(config: &ReplicationConfig) -> Result<TcpStream, ReplicationError> {
    let stream = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|e| ReplicationError::io(format!("connecting to {}", peer(config)), e))?;
    // Status updates are tiny and must not wait for Nagle.
    stream
        .set_nodelay(true)
        .map_err(|e| ReplicationError::io(format!("setting TCP_NODELAY on {}", peer(config)), e))?;
    Ok(stream)
}

enum Negotiated {
    Tls(Transport),
    Refused(TcpStream),
}

/// SSLRequest; on 'S' the TLS handshake, on 'N' the plain stream back. The
/// TLS connector is built only when the server answers 'S': building one
/// loads the system's CA bundle, which a server without TLS never needs.
async fn negotiate_tls(
    config: &ReplicationConfig,
    mut stream: TcpStream,
) -> Result<Negotiated, ReplicationError> {
    let mut buf = bytes::BytesMut::with_capacity(8);
    frontend::ssl_request(&mut buf);
    stream
        .write_all(&buf)
        .await
        .map_err(|e| ReplicationError::io(format!("sending SSLRequest to {}", peer(config)), e))?;
    // Exactly one byte: anything the server sends after 'S' belongs to the
    // TLS handshake (and must not be read as plaintext).
    let answer = stream.read_u8().await.map_err(|e| {
        ReplicationError::io(
            format!("reading the SSLRequest answer from {}", peer(config)),
            e,
        )
    })?;
    match answer {
        b'S' => {
            let connector = tls_connector(config)?;
            let tls = connector.connect(&config.host, stream).await.map_err(|e| {
                let text = e.to_string();
                let verifying = matches!(config.sslmode, SslMode::VerifyCa | SslMode::VerifyFull)
                    || (config.sslmode == SslMode::Require && config.ssl_root_cert.is_some());
                let kind = if verifying && (text.contains("certificate") || text.contains("verify"))
                {
                    ErrorKind::Config
                } else {
                    ErrorKind::Connection
                };
                ReplicationError::new(
                    kind,
                    format!(
                        "TLS handshake with {} failed (database.sslmode={}): {text}",
                        peer(config),
                        config.sslmode
                    ),
                )
            })?;
            Ok(Negotiated::Tls(Transport::Tls(Box::new(tls))))
        }
        b'N' => Ok(Negotiated::Refused(stream)),
        other => Err(ReplicationError::protocol(format!(
            "unexpected answer {:?} to SSLRequest from {}",
            char::from(other),
            peer(config)
        ))),
    }
}

/// The TLS settings for `sslmode` (libpq's semantics):
/// * `allow`, `prefer`, `require`: encrypt, do not verify the certificate —
///   except that `require` with a root certificate configured verifies the
///   chain like `verify-ca` (as libpq does when a root certificate exists);
/// * `verify-ca`: the chain must lead to the root certificate(s) in
///   `ssl_root_cert` (or the system's roots when none is configured);
/// * `verify-full`: also the host name must match the certificate.
fn tls_connector(
    config: &ReplicationConfig,
) -> Result<tokio_native_tls::TlsConnector, ReplicationError> {
    let mut builder = native_tls::TlsConnector::builder();
    let verify_chain = match config.sslmode {
        SslMode::VerifyCa | SslMode::VerifyFull => true,
        SslMode::Require => config.ssl_root_cert.is_some(),
        SslMode::Disable | SslMode::Allow | SslMode::Prefer => false,
    };
    if verify_chain {
        if let Some(path) = &config.ssl_root_cert {
            let data = std::fs::read(path).map_err(|e| {
                ReplicationError::config(format!(
                    "cannot read database.sslrootcert file {}: {e}",
                    path.display()
                ))
            })?;
            let certs = parse_certificates(&data).map_err(|e| {
                ReplicationError::config(format!(
                    "invalid database.sslrootcert file {}: {e}",
                    path.display()
                ))
            })?;
            for cert in certs {
                builder.add_root_certificate(cert);
            }
            builder.disable_built_in_roots(true);
        }
        builder.danger_accept_invalid_hostnames(config.sslmode != SslMode::VerifyFull);
    } else {
        // Nothing is verified: skip loading the system's CA bundle, which
        // costs ~1e9 instructions per connector.
        builder.danger_accept_invalid_certs(true);
        builder.danger_accept_invalid_hostnames(true);
        builder.disable_built_in_roots(true);
    }
    let connector = builder.build().map_err(|e| {
        ReplicationError::config(format!(
            "cannot set up TLS (database.sslmode={}): {e}",
            config.sslmode
        ))
    })?;
    Ok(tokio_native_tls::TlsConnector::from(connector))
}

/// All certificates of a PEM file (or the one certificate of a DER file).
fn parse_certificates(data: &[u8]) -> Result<Vec<native_tls::Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let Ok(text) = std::str::from_utf8(data) else {
        return native_tls::Certificate::from_der(data)
            .map(|c| vec![c])
            .map_err(|e| e.to_string());
    };
    if !text.contains(BEGIN) {
        return native_tls::Certificate::from_der(data)
            .map(|c| vec![c])
            .map_err(|e| e.to_string());
    }
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            return Err("unterminated PEM certificate".to_string());
        };
        let end = start + len + END.len();
        let cert = native_tls::Certificate::from_pem(&rest.as_bytes()[start..end])
            .map_err(|e| e.to_string())?;
        certs.push(cert);
        rest = &rest[end..];
    }
    Ok(certs)
}

/// Sends the startup message, authenticates, and reads until the first
/// ReadyForQuery.
async fn startup(
    config: &ReplicationConfig,
    transport: Transport,
) -> Result<Session, ReplicationError> {
    let mut wire = Wire::new(transport, peer(config));
    let mut params: Vec<(&str, &str)> = vec![
        ("user", config.user.as_str()),
        ("database", config.dbname.as_str()),
        ("replication", "database"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO"),
    ];
    if !config.application_name.is_empty() {
        params.push(("application_name", config.application_name.as_str()));
    }
    frontend::startup_message(params, wire.wbuf())
        .map_err(|e| ReplicationError::config(format!("invalid connection parameter: {e}")))?;
    wire.flush().await?;

    authenticate(config, &mut wire).await?;

    let mut parameters = Vec::new();
    let mut backend_pid = 0;
    loop {
        let frame = wire.read_frame().await?;
        match frame.tag {
            b'S' => {
                if let Some((name, value)) = super::parse_parameter_status(&frame.body) {
                    parameters.retain(|(n, _): &(String, String)| *n != name);
                    parameters.push((name, value));
                }
            }
            b'K' => {
                // BackendKeyData: pid and cancel key (unused: no cancel
                // requests on replication connections).
                if frame.body.len() >= 8 {
                    let b = &frame.body;
                    backend_pid = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            b'N' => super::log_notice(&frame.body),
            b'E' => return Err(server_error(config, &frame.body)),
            b'Z' => break,
            b'v' => {} // NegotiateProtocolVersion: we ask for nothing optional.
            other => {
                return Err(ReplicationError::protocol(format!(
                    "unexpected message {:?} from {} during connection startup",
                    char::from(other),
                    wire.peer
                )))
            }
        }
    }
    Ok(Session {
        wire,
        parameters,
        backend_pid,
    })
}

fn server_error(config: &ReplicationConfig, body: &[u8]) -> ReplicationError {
    ReplicationError::server(ServerError::parse(body)).context(format!(
        "replication connection to {} (user '{}', database '{}')",
        peer(config),
        config.user,
        config.dbname
    ))
}

fn auth_error(config: &ReplicationConfig, message: impl std::fmt::Display) -> ReplicationError {
    ReplicationError::new(ErrorKind::Authentication, message.to_string()).context(format!(
        "authentication of user '{}' at {}",
        config.user,
        peer(config)
    ))
}

async fn authenticate(config: &ReplicationConfig, wire: &mut Wire) -> Result<(), ReplicationError> {
    let mut scram: Option<ScramSha256> = None;
    loop {
        let frame = wire.read_frame().await?;
        match frame.tag {
            b'R' => {}
            b'E' => return Err(server_error(config, &frame.body)),
            b'N' => {
                super::log_notice(&frame.body);
                continue;
            }
            b'v' => continue,
            other => {
                return Err(ReplicationError::protocol(format!(
                    "unexpected message {:?} from {} during authentication",
                    char::from(other),
                    wire.peer
                )))
            }
        }
        let body = &frame.body[..];
        if body.len() < 4 {
            return Err(ReplicationError::protocol(format!(
                "truncated authentication request from {}",
                wire.peer
            )));
        }
        let code = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        let data = &body[4..];
        let password = || {
            config.password.as_deref().ok_or_else(|| {
                auth_error(
                    config,
                    "the server asks for a password, but none is configured (database.password)",
                )
            })
        };
        match code {
            0 => return Ok(()),
            3 => {
                let password = password()?;
                frontend::password_message(password.as_bytes(), wire.wbuf())
                    .map_err(|e| auth_error(config, format!("invalid password: {e}")))?;
                wire.flush().await?;
            }
            5 => {
                let password = password()?;
                if data.len() < 4 {
                    return Err(ReplicationError::protocol(format!(
                        "truncated MD5 request from {}",
                        wire.peer
                    )));
                }
                let salt = [data[0], data[1], data[2], data[3]];
                let hash = postgres_protocol::authentication::md5_hash(
                    config.user.as_bytes(),
                    password.as_bytes(),
                    salt,
                );
                frontend::password_message(hash.as_bytes(), wire.wbuf())
                    .map_err(|e| auth_error(config, format!("invalid password: {e}")))?;
                wire.flush().await?;
            }
            10 => {
                let password = password()?;
                let mut has_plain = false;
                let mut has_plus = false;
                for mechanism in data.split(|&b| b == 0).filter(|m| !m.is_empty()) {
                    has_plain |= mechanism == SCRAM_SHA_256.as_bytes();
                    has_plus |= mechanism == SCRAM_SHA_256_PLUS.as_bytes();
                }
                let end_point = wire.transport().tls_server_end_point();
                let (mechanism, binding) = match end_point {
                    Some(hash) if has_plus => (
                        SCRAM_SHA_256_PLUS,
                        ChannelBinding::tls_server_end_point(hash),
                    ),
                    // On TLS we could bind, but the server does not offer it.
                    Some(_) if has_plain => (SCRAM_SHA_256, ChannelBinding::unrequested()),
                    _ if has_plain => (SCRAM_SHA_256, ChannelBinding::unsupported()),
                    _ => {
                        let offered: Vec<String> = data
                            .split(|&b| b == 0)
                            .filter(|m| !m.is_empty())
                            .map(|m| String::from_utf8_lossy(m).into_owned())
                            .collect();
                        return Err(ReplicationError::new(
                            ErrorKind::Unsupported,
                            format!(
                                "authentication of user '{}' at {}: the server offers SASL mechanisms {offered:?}, sluice supports {SCRAM_SHA_256}",
                                config.user, wire.peer
                            ),
                        ));
                    }
                };
                let state = ScramSha256::new(password.as_bytes(), binding);
                frontend::sasl_initial_response(mechanism, state.message(), wire.wbuf())
                    .map_err(|e| auth_error(config, e))?;
                scram = Some(state);
                wire.flush().await?;
            }
            11 => {
                let state = scram.as_mut().ok_or_else(|| {
                    ReplicationError::protocol(format!(
                        "unexpected SASLContinue from {}",
                        wire.peer
                    ))
                })?;
                state
                    .update(data)
                    .map_err(|e| auth_error(config, format!("SCRAM exchange failed: {e}")))?;
                frontend::sasl_response(state.message(), wire.wbuf())
                    .map_err(|e| auth_error(config, e))?;
                wire.flush().await?;
            }
            12 => {
                let state = scram.as_mut().ok_or_else(|| {
                    ReplicationError::protocol(format!("unexpected SASLFinal from {}", wire.peer))
                })?;
                state.finish(data).map_err(|e| {
                    auth_error(
                        config,
                        format!("the server's SCRAM signature is invalid: {e}"),
                    )
                })?;
            }
            2 | 6 | 7 | 8 | 9 => {
                let name = match code {
                    2 => "Kerberos V5",
                    6 => "SCM credentials",
                    9 => "SSPI",
                    _ => "GSSAPI",
                };
                return Err(ReplicationError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "authentication of user '{}' at {}: the server requires {name} authentication, which sluice does not support (use scram-sha-256 or md5 in pg_hba.conf)",
                        config.user, wire.peer
                    ),
                ));
            }
            other => {
                return Err(ReplicationError::protocol(format!(
                    "unknown authentication request {other} from {}",
                    wire.peer
                )))
            }
        }
    }
}
