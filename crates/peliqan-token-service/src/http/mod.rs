//! Middleware wrapped around every route: CORS and request metrics/logs.

pub mod cors;
pub mod observe;
