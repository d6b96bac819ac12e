//! The demo's stand-in for a partner's own login system.
//!
//! A real partner already has users and issues them a JWT (or a session the
//! backend turns into one). The demo has a few fixed end-customers instead,
//! and `POST /demo/login {"user": "alice"}` signs a user JWT for one of them
//! with the per-run HS256 secret the token service is configured with. This
//! exists only in the xtask's demo server, never in the token service.
//!
//! The cookie-session variant (`cargo xtask demo --session`) plays an app
//! with server-side sessions instead (Rails, Django, Laravel...): the login
//! sets an `HttpOnly` session cookie ([`Sessions`]), and the token service
//! asks `GET /demo/whoami` who that cookie belongs to.

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The session cookie of the cookie-session demo.
pub const SESSION_COOKIE: &str = "demo_session";

/// How long a demo login lasts. The page logs in again when it expires.
const LOGIN_TTL_SECS: u64 = 8 * 3600;

/// One demo end-customer user. `external_id` names the tenant.
#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    /// Login name, sent to `/demo/login`.
    pub user: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub email: &'static str,
    pub company_name: &'static str,
    /// The partner's own customer id: the tenant claim of the token service.
    pub external_id: &'static str,
}

/// The demo's end-customers: three companies, so a tenant switch is visible.
pub const USERS: [DemoUser; 3] = [
    DemoUser {
        user: "alice",
        given_name: "Alice",
        family_name: "Wood",
        email: "alice@woodsolutions.example",
        company_name: "Wood Solutions Ltd",
        external_id: "wood_123",
    },
    DemoUser {
        user: "bruno",
        given_name: "Bruno",
        family_name: "Baker",
        email: "bruno@acmebakery.example",
        company_name: "Acme Bakery",
        external_id: "acme_456",
    },
    DemoUser {
        user: "chloe",
        given_name: "Chloé",
        family_name: "Stone",
        email: "chloe@stoneworks.example",
        company_name: "Stoneworks BV",
        external_id: "stone_789",
    },
];

/// The claims the token service reads: `sub`, the tenant claim, and the
/// profile claims auto-provisioning copies into a new sub-account.
#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    external_id: &'a str,
    email: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    company_name: &'a str,
    locale: &'a str,
    iat: u64,
    exp: u64,
}

/// A fresh random HS256 secret, hex-encoded: a new one each run, so a demo
/// left running is not open to anyone who read this source.
pub fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Signs a user JWT for the demo user named `user`, or `None` if there is
/// no such user.
pub fn login(user: &str, secret: &str) -> Option<anyhow::Result<(String, &'static DemoUser)>> {
    let who = USERS.iter().find(|u| u.user == user)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = Claims {
        sub: who.email,
        external_id: who.external_id,
        email: who.email,
        given_name: who.given_name,
        family_name: who.family_name,
        company_name: who.company_name,
        locale: "en",
        iat: now,
        exp: now + LOGIN_TTL_SECS,
    };
    let key = EncodingKey::from_secret(secret.as_bytes());
    Some(
        encode(&Header::default(), &claims, &key)
            .map(|jwt| (jwt, who))
            .map_err(Into::into),
    )
}

/// The cookie-session demo's server-side sessions: random id -> user.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, &'static DemoUser>>);

impl Sessions {
    /// Signs `user` in: a new session, and the `Set-Cookie` value naming
    /// it. `HttpOnly` (page scripts never see it) and `SameSite=Lax`: the
    /// token service on another port of the same host is same-site, so the
    /// browser sends the cookie with the SDK's `credentials: 'include'`.
    pub fn login(&self, user: &str) -> Option<anyhow::Result<(String, &'static DemoUser)>> {
        let who = USERS.iter().find(|u| u.user == user)?;
        Some(random_secret().map(|id| {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.clone(), who);
            (
                format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"),
                who,
            )
        }))
    }

    /// Ends the session the `Cookie` header names; the `Set-Cookie` that
    /// clears it in the browser.
    pub fn logout(&self, cookie: Option<&str>) -> String {
        if let Some(id) = session_id(cookie) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        }
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    }

    /// The who-am-I answer for the session the `Cookie` header names: the
    /// fields the token service reads (`sub`, the tenant, the profile).
    pub fn who_am_i(&self, cookie: Option<&str>) -> Option<serde_json::Value> {
        let id = session_id(cookie)?;
        let who = *self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id)?;
        Some(serde_json::json!({
            "sub": who.email,
            "external_id": who.external_id,
            "email": who.email,
            "given_name": who.given_name,
            "family_name": who.family_name,
            "company_name": who.company_name,
            "locale": "en",
        }))
    }
}

/// The session id in a `Cookie` header.
fn session_id(cookie: Option<&str>) -> Option<&str> {
    cookie?
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == SESSION_COOKIE)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn a_demo_login_is_an_hs256_jwt_naming_the_tenant() {
        let secret = random_secret().unwrap();
        assert_eq!(secret.len(), 64);
        let (jwt, who) = login("bruno", &secret).unwrap().unwrap();
        assert_eq!(who.external_id, "acme_456");
        let key = DecodingKey::from_secret(secret.as_bytes());
        let data = decode::<serde_json::Value>(&jwt, &key, &Validation::default()).unwrap();
        assert_eq!(data.claims["external_id"], "acme_456");
        assert_eq!(data.claims["company_name"], "Acme Bakery");
        assert!(login("mallory", &secret).is_none());
    }

    #[test]
    fn a_session_cookie_names_its_user_until_logout() {
        let sessions = Sessions::default();
        let (set, who) = sessions.login("chloe").unwrap().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = format!("theme=x; {}", set.split(';').next().unwrap());
        let me = sessions.who_am_i(Some(&cookie)).unwrap();
        assert_eq!(me["external_id"], who.external_id);
        assert!(sessions.who_am_i(Some("demo_session=forged")).is_none());
        assert!(sessions.logout(Some(&cookie)).contains("Max-Age=0"));
        assert!(sessions.who_am_i(Some(&cookie)).is_none());
        assert!(sessions.login("mallory").is_none());
    }

    #[test]
    fn every_demo_user_is_its_own_tenant() {
        let mut tenants: Vec<_> = USERS.iter().map(|u| u.external_id).collect();
        tenants.sort();
        tenants.dedup();
        assert_eq!(tenants.len(), USERS.len());
    }
}
