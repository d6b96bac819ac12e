//! Getting a fresh token for a tenant from Peliqan, creating its sub-account
//! first when auto-provisioning is on. Runs inside a flight, so at most once
//! at a time per tenant: that is what makes provisioning happen exactly once.
//!
//! The calls go through the client in whatever API dialect is configured.
//! Only a 404 on a route Peliqan knows means "no such sub-account"; a 404
//! that means "no such route" (wrong dialect) is a configuration error and
//! never leads to provisioning ([`crate::upstream::UpstreamError::is_not_found`]).
//!
//! A create Peliqan refuses (400/409) is told apart from one another replica
//! won: only an answer that can mean "already exists" leads to a second
//! lookup, and only a sub-account found there is used; anything else is
//! `provisioning_refused`, naming the refused fields and their claims.

use super::{CachedToken, Inner};
use crate::auth::Profile;
use crate::error::ServiceError;
use crate::upstream::{UpstreamError, to_service_error};
use peliqan_api::{ApiErrorBody, ExternalId, SubaccountToken};
use peliqan_client::Error;

impl Inner {
    /// A fresh token for `tenant`, not `avoid` (the token being refreshed
    /// or reported rejected): through the shared tier when there is one
    /// ([`super::fleet`]), else straight from Peliqan.
    #[tracing::instrument(name = "fetch_token", skip_all, fields(tenant = %tenant))]
    pub(super) async fn fetch(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
        avoid: Option<&str>,
    ) -> Result<CachedToken, ServiceError> {
        match &self.shared {
            Some(shared) => self.fetch_shared(shared, tenant, profile, avoid).await,
            None => {
                let answer = self.fetch_answer(tenant, profile).await?;
                self.checked(tenant, &answer)
            }
        }
    }

    /// A token answer, checked and timed.
    pub(super) fn checked(
        &self,
        tenant: &ExternalId,
        answer: &SubaccountToken,
    ) -> Result<CachedToken, ServiceError> {
        // Defence in depth: never hand out a token Peliqan says is someone else's.
        if answer.external_id.as_ref().is_some_and(|id| id != tenant) {
            tracing::error!(tenant = %tenant, "Peliqan answered a token for another tenant");
            return Err(ServiceError::UpstreamMisconfigured);
        }
        if let Some(id) = answer.subaccount_id {
            self.ids.insert(tenant, id);
        }
        CachedToken::new(answer, tenant, &self.settings, &*self.clock)
    }

    pub(super) async fn fetch_answer(
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
                self.tenant_created(tenant).await;
                let answer = self.upstream.token_by_id(created.id).await;
                if let Some(hydration) = self.hydration.get() {
                    // Still inside the flight (and the fleet's lock): once.
                    let target = crate::hydrate::Target {
                        subaccount_id: created.id,
                        external_id: tenant.as_str().to_owned(),
                        company_name: input.company_name.clone(),
                    };
                    let token = answer.as_ref().ok().map(|a| a.token.as_str());
                    hydration.provisioned(target, token).await;
                }
                answer.map_err(|e| to_service_error(&e))
            }
            Err(UpstreamError {
                error:
                    Error::Api {
                        status: status @ (400 | 409),
                        body,
                        ..
                    },
                ..
            }) => self.create_refused(tenant, status, &body).await,
            Err(e) => Err(to_service_error(&e)),
        }
    }

    /// Peliqan answered the create with a 400 or 409: either another replica
    /// created the sub-account first, or Peliqan refused the profile taken
    /// from the user's claims. A duplicate is a field error on `external_id`
    /// (`"sub-account with this external_id already exists."`, a 400, in
    /// every dialect), perhaps a 409 or a bare `detail` elsewhere; only then
    /// is the tenant looked up again, and found means the race. Everything
    /// else, and a duplicate that cannot be found, is `provisioning_refused`
    /// naming the fields.
    async fn create_refused(
        &self,
        tenant: &ExternalId,
        status: u16,
        body: &ApiErrorBody,
    ) -> Result<SubaccountToken, ServiceError> {
        let maybe_duplicate =
            status == 409 || body.fields.is_empty() || body.fields.contains_key("external_id");
        if maybe_duplicate {
            match self.upstream.token_by_external_id(tenant).await {
                Ok(answer) => {
                    tracing::info!(tenant = %tenant, "another replica created the sub-account first; using it");
                    self.tenant_created(tenant).await;
                    return Ok(answer);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(to_service_error(&e)),
            }
        }
        let why = refused_fields(body);
        tracing::warn!(
            tenant = %tenant,
            status,
            refused = ?why,
            "Peliqan REFUSED TO CREATE the tenant's sub-account from the user's JWT claims \
             (auto-provisioning); the user gets 502 provisioning_refused until the claims change"
        );
        Err(ServiceError::ProvisioningRefused(why))
    }
}

/// The claim each field of the create body comes from
/// ([`Profile::subaccount_input`]).
fn claim_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "first_name" => "given_name",
        "last_name" => "family_name",
        "email" => "email",
        "language" => "locale",
        "company_name" => "company_name",
        _ => return None,
    })
}

/// `field (from the `claim` claim): message; ...`, from Peliqan's field
/// errors (or its `detail`), bounded: it goes into an answer.
fn refused_fields(body: &ApiErrorBody) -> String {
    const MAX_FIELDS: usize = 8;
    const MAX_MESSAGE: usize = 200;
    let short = |m: &str| m.chars().take(MAX_MESSAGE).collect::<String>();
    let parts: Vec<String> = body
        .field_errors()
        .take(MAX_FIELDS)
        .map(|(field, message)| {
            let field = short(field);
            match (claim_of(&field), field.as_str()) {
                (Some(claim), _) => {
                    format!("{field} (from the `{claim}` claim): {}", short(&message))
                }
                (None, "external_id") => format!("{field} (the tenant): {}", short(&message)),
                (None, _) => format!("{field}: {}", short(&message)),
            }
        })
        .collect();
    if parts.is_empty() {
        short(&body.message())
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_fields_name_the_claims_they_came_from() {
        let mut body = ApiErrorBody::field("email", "Enter a valid email address.");
        body.fields.insert(
            "language".into(),
            peliqan_api::error::FieldMessages::Many(vec!["Not a valid choice.".into(), "x".into()]),
        );
        assert_eq!(
            refused_fields(&body),
            "email (from the `email` claim): Enter a valid email address.; \
             language (from the `locale` claim): Not a valid choice.; x"
        );
        let long = ApiErrorBody::detail("y".repeat(1000));
        assert_eq!(refused_fields(&long).len(), 200);
        let dup = ApiErrorBody::field("external_id", "already exists.");
        assert_eq!(
            refused_fields(&dup),
            "external_id (the tenant): already exists."
        );
    }
}
