//! Routes of this module are added by the engineer building it.

use std::sync::Arc;

use axum::Router;

use crate::RestState;

pub fn routes() -> Router<Arc<RestState>> {
    Router::new()
}
