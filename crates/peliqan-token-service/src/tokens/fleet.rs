//! A first-tier miss (or refresh) in a fleet with a shared tier
//! ([`crate::shared`]): one replica in the fleet calls Peliqan, the others
//! use its result.
//!
//! 1. A usable token in Redis is the answer (one another replica fetched).
//! 2. Else take the tenant's lock in Redis. The holder looks once more,
//!    fetches from Peliqan (provisioning included, so a new tenant is
//!    created exactly once in the fleet whatever Peliqan does with a
//!    duplicate `external_id`), stores the token with a TTL of its
//!    validity, announces a replacement (forced refresh) to the fleet, and
//!    releases the lock.
//! 3. A replica that finds the lock held polls (every [`POLL`]) for the
//!    holder's token or "unknown tenant" note; when the lock goes without
//!    either (the holder failed, or died and its lock expired), it takes
//!    over from step 1. So a dead holder delays the others by at most the
//!    lock's TTL.
//!
//! Whenever Redis is unavailable the replica fetches on its own, under its
//! own single flight ([`super::flight`]): users never wait on Redis trouble.

use super::{CachedToken, Inner};
use crate::auth::Profile;
use crate::error::ServiceError;
use crate::shared::SharedTier;
use peliqan_api::{ExternalId, SubaccountToken};
use std::sync::Arc;
use std::time::Duration;

/// How often a waiting replica looks at the holder's progress.
const POLL: Duration = Duration::from_millis(20);

/// Turns a replica takes at the lock before fetching on its own anyway.
const MAX_TURNS: usize = 3;

/// `token` unless it is `avoid` (the token being refreshed or reported
/// rejected).
fn usable(token: Option<SubaccountToken>, avoid: Option<&str>) -> Option<SubaccountToken> {
    token.filter(|t| avoid.is_none_or(|a| t.token != a))
}

impl Inner {
    pub(super) async fn fetch_shared(
        &self,
        shared: &Arc<SharedTier>,
        tenant: &ExternalId,
        profile: &Profile,
        avoid: Option<&str>,
    ) -> Result<CachedToken, ServiceError> {
        for _ in 0..MAX_TURNS {
            if let Some(t) = usable(shared.token(tenant).await, avoid) {
                self.metrics.shared_tier("hit");
                return self.checked(tenant, &t);
            }
            if avoid.is_none() && shared.is_unknown(tenant).await {
                self.metrics.unknown_tenant_remembered();
                return Err(ServiceError::UnknownTenant);
            }
            match shared.claim(tenant).await {
                None => break,
                Some(true) => {
                    return self
                        .fetch_holding_lock(shared, tenant, profile, avoid)
                        .await;
                }
                Some(false) => match self.wait_for_holder(shared, tenant, avoid).await {
                    Some(Ok(t)) => {
                        self.metrics.shared_tier("waited");
                        return self.checked(tenant, &t);
                    }
                    Some(Err(e)) => return Err(e),
                    // Released without a usable token: take a turn.
                    None => continue,
                },
            }
        }
        self.metrics.shared_tier("bypassed");
        let answer = self.fetch_answer(tenant, profile).await?;
        self.checked(tenant, &answer)
    }

    async fn fetch_holding_lock(
        &self,
        shared: &Arc<SharedTier>,
        tenant: &ExternalId,
        profile: &Profile,
        avoid: Option<&str>,
    ) -> Result<CachedToken, ServiceError> {
        // The previous holder may have stored its token just before we won.
        if let Some(t) = usable(shared.token(tenant).await, avoid) {
            shared.release(tenant).await;
            self.metrics.shared_tier("hit");
            return self.checked(tenant, &t);
        }
        self.metrics.shared_tier("fetched");
        let fetched = self.fetch_answer(tenant, profile).await;
        let result = fetched.and_then(|answer| {
            let token = self.checked(tenant, &answer)?;
            Ok((answer, token))
        });
        match &result {
            Ok((answer, token)) => {
                let ttl = token
                    .valid_until
                    .saturating_duration_since(self.clock.instant());
                shared.store(tenant, answer, ttl).await;
                if avoid.is_some() {
                    shared.announce(tenant, answer).await;
                }
            }
            Err(ServiceError::UnknownTenant) => {
                shared
                    .note_unknown(tenant, self.settings.unknown_tenant_ttl)
                    .await;
            }
            Err(_) => {}
        }
        shared.release(tenant).await;
        result.map(|(_, token)| token)
    }

    /// Waits for the lock holder's result: `Some` with its token or "no
    /// such tenant", `None` once the lock is gone without one (or Redis
    /// stopped answering).
    async fn wait_for_holder(
        &self,
        shared: &SharedTier,
        tenant: &ExternalId,
        avoid: Option<&str>,
    ) -> Option<Result<SubaccountToken, ServiceError>> {
        // A live holder finishes within the lock's TTL; past it, the lock
        // has expired by itself.
        let deadline = tokio::time::Instant::now() + shared.lock_ttl + POLL * 5;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            let seen = shared.look(tenant).await?;
            if let Some(t) = usable(seen.token, avoid) {
                return Some(Ok(t));
            }
            if seen.unknown && avoid.is_none() {
                return Some(Err(ServiceError::UnknownTenant));
            }
            if !seen.locked {
                return None;
            }
        }
        None
    }
}
