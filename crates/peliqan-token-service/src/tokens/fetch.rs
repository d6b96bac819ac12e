//! Getting a fresh token for a tenant from Peliqan, creating its sub-account
//! first when auto-provisioning is on. Runs inside a flight, so at most once
//! at a time per tenant: that is what makes provisioning happen exactly once.
//!
//! The calls go through the client in whatever API dialect is configured.
//! Only a 404 on a route Peliqan knows means "no such sub-account"; a 404
//! that means "no such route" (wrong dialect) is a configuration error and
//! never leads to provisioning ([`crate::upstream::UpstreamError::is_not_found`]).

use super::{CachedToken, Inner};
use crate::auth::Profile;
use crate::error::ServiceError;
use crate::upstream::to_service_error;
use peliqan_api::{ExternalId, SubaccountToken};

impl Inner {
    #[tracing::instrument(name = "fetch_token", skip_all, fields(tenant = %tenant))]
    pub(super) async fn fetch(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
    ) -> Result<CachedToken, ServiceError> {
        let answer = self.fetch_answer(tenant, profile).await?;
        // Defence in depth: never hand out a token Peliqan says is someone else's.
        if answer.external_id.as_ref().is_some_and(|id| id != tenant) {
            tracing::error!(tenant = %tenant, "Peliqan answered a token for another tenant");
            return Err(ServiceError::UpstreamMisconfigured);
        }
        if let Some(id) = answer.subaccount_id {
            self.ids.insert(tenant, id);
        }
        CachedToken::new(&answer, tenant, &self.settings)
    }

    async fn fetch_answer(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
    ) -> Result<SubaccountToken, ServiceError> {
        if let Some(id) = self.ids.get(tenant) {
            match self.upstream.token_by_id(id).await {
                Err(e) if e.is_not_found() => {
                    // The sub-account was deleted: forget the id, look up again.
                    self.ids.remove(tenant);
                }
                other => return other.map_err(|e| to_service_error(&e)),
            }
        }
        match self.upstream.token_by_external_id(tenant).await {
            Err(e) if e.is_not_found() => self.provision(tenant, profile).await,
            other => other.map_err(|e| to_service_error(&e)),
        }
    }

    async fn provision(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
    ) -> Result<SubaccountToken, ServiceError> {
        if !self.auto_provision {
            return Err(ServiceError::UnknownTenant);
        }
        let input = profile.subaccount_input(tenant);
        match self.upstream.create_subaccount(&input).await {
            Ok(created) => {
                tracing::info!(tenant = %tenant, subaccount_id = %created.id, "provisioned a sub-account");
                self.ids.insert(tenant, created.id);
                self.upstream
                    .token_by_id(created.id)
                    .await
                    .map_err(|e| to_service_error(&e))
            }
            // Another replica may have created it first: use that one.
            Err(e) if matches!(e.status(), Some(400 | 409)) => self
                .upstream
                .token_by_external_id(tenant)
                .await
                .map_err(|e| to_service_error(&e)),
            Err(e) => Err(to_service_error(&e)),
        }
    }
}
