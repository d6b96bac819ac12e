//! Emulator-specific behaviour, driven over HTTP with reqwest against an
//! in-process emulator on port 0 (and once against the binary). The seed
//! endpoints as a client sees them are tested with `peliqan-client`
//! elsewhere; these tests pin what the emulator adds or must get exactly
//! right: CORS, error envelopes, token scopes and expiry, the OAuth page,
//! stats and faults and who may change them, and each API dialect with its
//! slash rule and (in `partner`) client credentials.

mod helpers;

mod auth;
mod binary;
mod connections;
mod control;
mod control_guard;
mod cors;
mod credentials;
mod dialects;
mod duplicates;
mod oauth;
mod partner;
mod readme;
mod robustness;
mod slashes;
mod tokens;
