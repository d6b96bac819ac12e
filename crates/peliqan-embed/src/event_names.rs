//! The names of a `PeliqanEmbed`'s events (`embed.on(type, ...)`), in
//! plain Rust so a native test holds `index.d.ts`'s event map to them.

/// Every event type, as partners spell it (and `index.d.ts` types it).
pub const TYPES: [&str; 7] = [
    CONNECTION_CREATED,
    CONNECTED,
    CONNECTION_FAILED,
    CANCELLED,
    POPUP_BLOCKED,
    TOKEN_REFRESHED,
    UNREACHABLE,
];

/// `{connectionId, connectorId}`: Peliqan created the connection.
pub const CONNECTION_CREATED: &str = "connection-created";
/// `{connection}`: a connection is live.
pub const CONNECTED: &str = "connected";
/// `{connectionId, error}`: a created connection failed or timed out.
pub const CONNECTION_FAILED: &str = "connection-failed";
/// `{connectionId?, connectorId, reason}`: the popup was closed, the
/// `signal` aborted, or the instance destroyed.
pub const CANCELLED: &str = "cancelled";
/// `{connectorId}`: the browser refused the OAuth popup.
pub const POPUP_BLOCKED: &str = "popup-blocked";
/// `{expiresAt?}`: a new sub-account token arrived (the first one too).
pub const TOKEN_REFRESHED: &str = "token-refreshed";
/// `{service, error}`: the token service or Peliqan could not be reached
/// (`network` or `cors`); sent once per outage, until it answers again.
pub const UNREACHABLE: &str = "unreachable";
