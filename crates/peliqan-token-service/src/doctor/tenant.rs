//! `--tenant NAME`: a short-lived token is issued for that tenant the way
//! the service would get it, it has an `exp`, and it works inside the
//! tenant's own account.
//!
//! As in the service: by external id first; on a 404 the sub-account is
//! created only when `TOKEN_SERVICE_AUTO_PROVISION` is on (with nothing but
//! the external id: there is no user profile here). The token itself is
//! never printed, only its lifetime.

use super::partner::{call_bound, failure, timed_out};
use super::report::Check;
use crate::settings::Settings;
use crate::tokens::entry::{timing, token_exp};
use peliqan_api::{ExternalId, SubaccountInput, SubaccountToken};
use peliqan_client::{Error, Expiry, PartnerApi, PeliqanClient, Secret};
use std::time::{Duration, SystemTime};

const NAME: &str = "tenant_token";

/// The tenant-token check, and the token when one was issued (for
/// [`subaccount_api`]).
pub(super) async fn token(
    partner: &PartnerApi,
    settings: &Settings,
    tenant: &str,
) -> (Check, Option<Secret>) {
    let upstream = &settings.upstream;
    let id = ExternalId::from(tenant);
    let bound = call_bound(upstream);
    let call = partner.subaccount_token_by_external_id(&id, Expiry::ShortLived);
    let (answer, created) = match tokio::time::timeout(bound, call).await {
        Err(_) => return (timed_out(NAME, upstream), None),
        Ok(Ok(answer)) => (answer, None),
        // Only a 404 from a route Peliqan knows means "no such sub-account".
        Ok(Err(e)) if e.status() == Some(404) && e.route_mismatch().is_none() => {
            match provision(partner, settings, &id).await {
                Ok((answer, created)) => (answer, Some(created)),
                Err(check) => return (check, None),
            }
        }
        Ok(Err(e)) => return (failure(NAME, &e, upstream), None),
    };
    if answer
        .external_id
        .as_ref()
        .is_some_and(|named| named != &id)
    {
        return (
            Check::fail(
                NAME,
                format!("Peliqan answered a token for another tenant than `{tenant}`"),
                "check the PELIQAN_API_ROUTE_TOKEN_BY_EXTERNAL_ID override: it must select the \
                 sub-account by external id",
            ),
            None,
        );
    }
    (
        lifetime(&answer, settings, tenant, created),
        Some(Secret::new(answer.token)),
    )
}

/// Creates the sub-account when auto-provisioning is on, then gets its token.
async fn provision(
    partner: &PartnerApi,
    settings: &Settings,
    id: &ExternalId,
) -> Result<(SubaccountToken, u64), Check> {
    let upstream = &settings.upstream;
    if !settings.auto_provision {
        return Err(Check::fail(
            NAME,
            format!(
                "Peliqan has no sub-account with external id `{id}`, and \
                 TOKEN_SERVICE_AUTO_PROVISION is off, so the service would answer unknown_tenant"
            ),
            "create the sub-account in Peliqan, set TOKEN_SERVICE_AUTO_PROVISION=true, or pass \
             an existing tenant to --tenant",
        ));
    }
    let input = SubaccountInput {
        external_id: id.clone(),
        ..SubaccountInput::default()
    };
    let bound = call_bound(upstream);
    let created = match tokio::time::timeout(bound, partner.create_subaccount(&input)).await {
        Err(_) => return Err(timed_out(NAME, upstream)),
        Ok(Err(e)) => return Err(creation_failed(&e, upstream)),
        Ok(Ok(created)) => created,
    };
    let call = partner.subaccount_token(created.id, Expiry::ShortLived);
    match tokio::time::timeout(bound, call).await {
        Err(_) => Err(timed_out(NAME, upstream)),
        Ok(Err(e)) => Err(failure(NAME, &e, upstream)),
        Ok(Ok(answer)) => Ok((answer, created.id.0)),
    }
}

fn creation_failed(e: &Error, upstream: &crate::settings::UpstreamSettings) -> Check {
    let mut check = failure(NAME, e, upstream);
    check.detail = format!("creating the sub-account failed: {}", check.detail);
    check
}

/// The token has an `exp`; its lifetime and how the cache would use it.
fn lifetime(
    answer: &SubaccountToken,
    settings: &Settings,
    tenant: &str,
    created: Option<u64>,
) -> Check {
    let Some(exp) = token_exp(&answer.token) else {
        return Check::fail(
            NAME,
            format!(
                "the token for `{tenant}` has no `exp`: it never expires, so the service \
                 refuses to hand it to a browser"
            ),
            "check the PELIQAN_API_ROUTE_TOKEN_BY_EXTERNAL_ID and PELIQAN_API_ROUTE_TOKEN_BY_ID \
             overrides: they must name the short-lived token routes",
        );
    };
    let Ok(lifetime) = exp.duration_since(SystemTime::now()) else {
        return Check::fail(
            NAME,
            format!("the token for `{tenant}` has already expired when it arrived"),
            "synchronise this machine's clock with NTP (see the clock line)",
        );
    };
    let cap = settings.cache.max_token_lifetime;
    if lifetime > cap {
        return Check::fail(
            NAME,
            format!(
                "the token for `{tenant}` lives {} ({} s), longer than \
                 TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS ({} s): the service refuses it as \
                 implausible (502 upstream_misconfigured)",
                human(lifetime),
                lifetime.as_secs(),
                cap.as_secs()
            ),
            "check that the token routes name Peliqan's short-lived token endpoints; raise \
             TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS only if Peliqan really issues such lifetimes",
        );
    }
    let (cached, refresh) = timing(lifetime, &settings.cache, 0.0);
    let account = match (created, answer.subaccount_id) {
        (Some(id), _) => {
            format!(" (sub-account {id} was just created: TOKEN_SERVICE_AUTO_PROVISION is on)")
        }
        (None, Some(id)) => format!(" (sub-account {id})"),
        (None, None) => String::new(),
    };
    Check::pass(
        NAME,
        format!(
            "a short-lived token for `{tenant}` was issued{account}: lifetime {} s ({}), \
             served from the cache for {} s and refreshed after about {} s",
            lifetime.as_secs_f64().round(),
            human(lifetime),
            cached.as_secs(),
            refresh.as_secs()
        ),
    )
}

/// `30 min`, `2 h 5 min`, `45 s`, rounded to the nearest unit.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    let s = if s >= 60 { (s + 30) / 60 * 60 } else { s };
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The tenant's token works on the sub-account side (`list_connections`).
pub(super) async fn subaccount_api(
    client: &PeliqanClient,
    token: Secret,
    settings: &Settings,
) -> Check {
    const NAME: &str = "subaccount_api";
    let upstream = &settings.upstream;
    let api = client.subaccount(token);
    match tokio::time::timeout(call_bound(upstream), api.connections()).await {
        Err(_) => timed_out(NAME, upstream),
        Ok(Ok(list)) => Check::pass(
            NAME,
            format!(
                "the tenant's token lists its connections ({} so far)",
                list.len()
            ),
        ),
        Ok(Err(e)) if matches!(e.status(), Some(401 | 403)) => Check::fail(
            NAME,
            format!("Peliqan refused the tenant's own token: {e}"),
            "check the PELIQAN_API_ROUTE_TOKEN_BY_* overrides: they must answer a sub-account \
             token, not a partner one",
        ),
        Ok(Err(e)) => failure(NAME, &e, upstream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(1800)), "30 min");
        assert_eq!(human(Duration::from_millis(1_799_400)), "30 min");
        assert_eq!(human(Duration::from_secs(7500)), "2 h 5 min");
    }

    fn token_living(secs: u64) -> SubaccountToken {
        use base64::Engine;
        let exp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + secs;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
        SubaccountToken {
            token: format!("e30.{payload}.sig"),
            subaccount_id: None,
            external_id: None,
        }
    }

    #[test]
    fn a_token_the_service_would_refuse_as_too_long_lived_fails_the_check() {
        let map = [
            ("PELIQAN_API_URL", "http://127.0.0.1:9"),
            ("PELIQAN_PARTNER_TOKEN", "p"),
            (
                "TOKEN_SERVICE_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS", "3600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let settings = Settings::from_map(&map).unwrap();
        let long = lifetime(&token_living(7200), &settings, "wood", None);
        assert_eq!(
            long.status,
            super::super::report::Status::Fail,
            "{}",
            long.detail
        );
        assert!(
            long.detail
                .contains("TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS"),
            "{}",
            long.detail
        );
        let fine = lifetime(&token_living(1800), &settings, "wood", None);
        assert_eq!(
            fine.status,
            super::super::report::Status::Pass,
            "{}",
            fine.detail
        );
    }
}
