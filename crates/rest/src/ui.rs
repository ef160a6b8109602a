//! The status page (`GET /ui`): one self-contained HTML file (inline CSS and
//! JavaScript, no framework, nothing fetched from elsewhere) embedded in the
//! binary. It reads the REST API from the browser — connectors with their
//! status, `/metrics` for events/s, each task's published details (snapshot
//! progress, replication slot) — and calls pause / resume / restart. See
//! docs/ui.md.

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::RestState;

/// The page, as served.
pub const PAGE: &str = include_str!("../assets/ui.html");

/// Same-origin requests only; inline script and style (the page builds its
/// DOM with `textContent`, never from HTML strings).
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

pub fn routes() -> Router<Arc<RestState>> {
    Router::new()
        .route("/ui", get(page))
        .route("/ui/", get(page))
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE,
    )
}

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_is_self_contained() {
        for outside in ["http://", "https://", "//cdn", "<script src", "<link"] {
            assert!(!PAGE.contains(outside), "the page refers to {outside:?}");
        }
        assert!(PAGE.contains("<title>sluice — status</title>"));
        assert!(PAGE.contains("<table"));
        // Credentials stay in memory.
        for storage in ["localStorage", "sessionStorage", "document.cookie"] {
            assert!(!PAGE.contains(storage), "the page uses {storage}");
        }
    }
}
