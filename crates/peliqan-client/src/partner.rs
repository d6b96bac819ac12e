//! [`PartnerApi`]: the calls a partner makes with its own credentials.
//!
//! The partner's credentials (its token, or OAuth client credentials)
//! manage end-customer accounts (sub-accounts), mint their tokens and read
//! the connector catalogue (servertypes). They must stay on the server: they
//! never go to a browser, and this type's `Debug` prints `***` in their
//! place. Each method names its [`Operation`]; the path it calls is that
//! operation's route in the client's dialect (the seed's path is given as an
//! example).

use crate::auth::Auth;
use crate::client::PeliqanClient;
use crate::error::Error;
use peliqan_api::dialect::Vars;
use peliqan_api::{
    ExternalId, Operation, Servertype, Subaccount, SubaccountId, SubaccountInfo, SubaccountInput,
    SubaccountToken,
};

/// Lifetime of a requested sub-account token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Expiry {
    /// A short-lived token, fit for a browser (client-side embedding).
    #[default]
    ShortLived,
    /// A token without expiry (seed: `expire=false`; `partner`: the
    /// `identity` route), for server-side use only. Never hand one to a
    /// browser.
    NonExpiring,
}

impl Expiry {
    fn by_id(self) -> Operation {
        match self {
            Self::ShortLived => Operation::TokenById,
            Self::NonExpiring => Operation::NonExpiringTokenById,
        }
    }

    fn by_external_id(self) -> Operation {
        match self {
            Self::ShortLived => Operation::TokenByExternalId,
            Self::NonExpiring => Operation::NonExpiringTokenByExternalId,
        }
    }
}

/// Partner calls. Make one with [`PeliqanClient::partner`] or
/// [`PeliqanClient::partner_with`]; it is cheap to clone.
#[derive(Clone)]
pub struct PartnerApi {
    client: PeliqanClient,
    auth: Auth,
}

impl std::fmt::Debug for PartnerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerApi")
            .field("base_url", &self.client.base_url().as_str())
            .field("auth", &self.auth)
            .finish()
    }
}

fn id_vars(id: SubaccountId) -> Vars<'static> {
    Vars {
        id: Some(id.0),
        ..Vars::default()
    }
}

fn external_vars(external_id: &ExternalId) -> Vars<'_> {
    Vars {
        external_id: Some(external_id.as_str()),
        ..Vars::default()
    }
}

impl PartnerApi {
    pub(crate) fn new(client: PeliqanClient, auth: Auth) -> Self {
        Self { client, auth }
    }

    /// Creates an end-customer account (`create_subaccount`, seed:
    /// `POST /api/subaccount`). Never retried: a retry could create a second
    /// account. A duplicate `external_id` is an [`Error::Api`] with status 400.
    pub async fn create_subaccount(&self, input: &SubaccountInput) -> Result<Subaccount, Error> {
        let call = self
            .client
            .call(Operation::CreateSubaccount, &Vars::default())?
            .json(input);
        self.client.fetch(&self.auth, call).await
    }

    /// Lists all the partner's end-customer accounts (`list_subaccounts`,
    /// seed: `GET /api/subaccount`). When the route is paged
    /// (`{page}`/`{per_page}`, as in `partner`), every page is read.
    pub async fn list_subaccounts(&self) -> Result<Vec<Subaccount>, Error> {
        self.client
            .fetch_all(&self.auth, Operation::ListSubaccounts)
            .await
    }

    /// Reads one end-customer account (`get_subaccount`, seed:
    /// `GET /api/subaccount/{id}`).
    pub async fn subaccount(&self, id: SubaccountId) -> Result<Subaccount, Error> {
        let call = self.client.call(Operation::GetSubaccount, &id_vars(id))?;
        self.client.fetch(&self.auth, call).await
    }

    /// Reads the end-customer account with the partner's own id
    /// (`get_subaccount_by_external_id`, `partner`:
    /// `GET /api/partner/sub-account/?external_id=`). The seed has no such
    /// route: an [`Error::Route`] there, unless overridden.
    pub async fn subaccount_by_external_id(
        &self,
        external_id: &ExternalId,
    ) -> Result<Subaccount, Error> {
        let call = self.client.call(
            Operation::GetSubaccountByExternalId,
            &external_vars(external_id),
        )?;
        self.client.fetch(&self.auth, call).await
    }

    /// An account's data-warehouse info (`subaccount_info`, `partner`:
    /// `GET /api/partner/sub-accounts/{id}/info/`).
    pub async fn subaccount_info(&self, id: SubaccountId) -> Result<SubaccountInfo, Error> {
        let call = self.client.call(Operation::SubaccountInfo, &id_vars(id))?;
        self.client.fetch(&self.auth, call).await
    }

    /// Replaces an end-customer account's details (`update_subaccount`,
    /// seed: `PUT /api/subaccount/{id}`).
    pub async fn update_subaccount(
        &self,
        id: SubaccountId,
        input: &SubaccountInput,
    ) -> Result<Subaccount, Error> {
        let call = self
            .client
            .call(Operation::UpdateSubaccount, &id_vars(id))?
            .json(input);
        self.client.fetch(&self.auth, call).await
    }

    /// Deletes an end-customer account (`delete_subaccount`, seed:
    /// `DELETE /api/subaccount/{id}`).
    pub async fn delete_subaccount(&self, id: SubaccountId) -> Result<(), Error> {
        let call = self
            .client
            .call(Operation::DeleteSubaccount, &id_vars(id))?;
        self.client.execute(&self.auth, &call).await.map(drop)
    }

    /// Mints a token for an end-customer account (`token_by_id` or
    /// `non_expiring_token_by_id`, seed: `GET /api/subaccount/{id}/token`,
    /// `partner`: `POST /api/partner/sub-account/integrate/?account_id=`).
    /// Retried only when the route's method is idempotent.
    pub async fn subaccount_token(
        &self,
        id: SubaccountId,
        expiry: Expiry,
    ) -> Result<SubaccountToken, Error> {
        let call = self.client.call(expiry.by_id(), &id_vars(id))?;
        self.client.fetch(&self.auth, call).await
    }

    /// Mints a token for the account with the partner's own id
    /// (`token_by_external_id` or `non_expiring_token_by_external_id`, seed:
    /// `GET /api/subaccount/token?external_id=..`). An unknown id is an
    /// [`Error::Api`] with status 404.
    pub async fn subaccount_token_by_external_id(
        &self,
        external_id: &ExternalId,
        expiry: Expiry,
    ) -> Result<SubaccountToken, Error> {
        let call = self
            .client
            .call(expiry.by_external_id(), &external_vars(external_id))?;
        self.client.fetch(&self.auth, call).await
    }

    /// The connector catalogue with each connector's connect form
    /// (`servertypes`, seed: `GET /api/servertypes`).
    pub async fn servertypes(&self) -> Result<Vec<Servertype>, Error> {
        let call = self.client.call(Operation::Servertypes, &Vars::default())?;
        self.client.fetch_list(&self.auth, call).await
    }

    /// The connector catalogue as Peliqan wrote it, for passing on: the JSON
    /// array of servertypes (of a Django REST Framework page, its
    /// `results`). Each item must read as a [`Servertype`], but is returned
    /// unchanged, so fields this crate does not model survive.
    pub async fn servertypes_json(&self) -> Result<Vec<u8>, Error> {
        #[derive(serde::Deserialize)]
        struct Drf {
            results: serde_json::Value,
        }
        let call = self.client.call(Operation::Servertypes, &Vars::default())?;
        let body = self.client.execute(&self.auth, &call).await?;
        crate::list::read_page::<Servertype>(&call, &body)?;
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            let page: Drf = call.decode(&body)?;
            return Ok(page.results.to_string().into_bytes());
        }
        Ok(body)
    }
}
