//! [`PartnerApi`]: the calls a partner makes with its own token.
//!
//! The partner token manages end-customer accounts (sub-accounts), mints
//! their tokens and reads the connector catalogue (servertypes). It must
//! stay on the server: it never goes to a browser, and this type's `Debug`
//! prints `***` in its place.

use crate::call::{Call, Verb};
use crate::client::PeliqanClient;
use crate::error::Error;
use crate::secret::Secret;
use peliqan_api::{
    ExternalId, Servertype, Subaccount, SubaccountId, SubaccountInput, SubaccountToken, paths,
};

/// Lifetime of a requested sub-account token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Expiry {
    /// A short-lived token, fit for a browser (client-side embedding).
    #[default]
    ShortLived,
    /// A token without expiry (`expire=false`), for server-side use only.
    /// Never hand one to a browser.
    NonExpiring,
}

impl Expiry {
    fn apply(self, call: Call) -> Call {
        match self {
            Self::ShortLived => call,
            Self::NonExpiring => call.query("expire", "false"),
        }
    }
}

/// Partner-token calls. Make one with [`PeliqanClient::partner`]; it is
/// cheap to clone.
#[derive(Clone)]
pub struct PartnerApi {
    client: PeliqanClient,
    token: Secret,
}

impl std::fmt::Debug for PartnerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerApi")
            .field("base_url", &self.client.base_url().as_str())
            .field("token", &self.token)
            .finish()
    }
}

impl PartnerApi {
    pub(crate) fn new(client: PeliqanClient, token: Secret) -> Self {
        Self { client, token }
    }

    /// Creates an end-customer account (`POST /api/subaccount`). Never
    /// retried: a retry could create a second account. A duplicate
    /// `external_id` is an [`Error::Api`] with status 400.
    pub async fn create_subaccount(&self, input: &SubaccountInput) -> Result<Subaccount, Error> {
        let call = Call::new(Verb::Post, paths::SUBACCOUNTS).json(input);
        self.client.fetch(&self.token, call).await
    }

    /// Lists the partner's end-customer accounts (`GET /api/subaccount`).
    pub async fn list_subaccounts(&self) -> Result<Vec<Subaccount>, Error> {
        let call = Call::new(Verb::Get, paths::SUBACCOUNTS);
        self.client.fetch_list(&self.token, call).await
    }

    /// Reads one end-customer account (`GET /api/subaccount/{id}`).
    pub async fn subaccount(&self, id: SubaccountId) -> Result<Subaccount, Error> {
        let call = Call::new(Verb::Get, paths::subaccount(id));
        self.client.fetch(&self.token, call).await
    }

    /// Replaces an end-customer account's details (`PUT /api/subaccount/{id}`).
    pub async fn update_subaccount(
        &self,
        id: SubaccountId,
        input: &SubaccountInput,
    ) -> Result<Subaccount, Error> {
        let call = Call::new(Verb::Put, paths::subaccount(id)).json(input);
        self.client.fetch(&self.token, call).await
    }

    /// Deletes an end-customer account (`DELETE /api/subaccount/{id}`).
    pub async fn delete_subaccount(&self, id: SubaccountId) -> Result<(), Error> {
        let call = Call::new(Verb::Delete, paths::subaccount(id));
        self.client.execute(&self.token, &call).await.map(drop)
    }

    /// Mints a token for an end-customer account
    /// (`GET /api/subaccount/{id}/token[?expire=false]`).
    pub async fn subaccount_token(
        &self,
        id: SubaccountId,
        expiry: Expiry,
    ) -> Result<SubaccountToken, Error> {
        let call = expiry.apply(Call::new(Verb::Get, paths::subaccount_token(id)));
        self.client.fetch(&self.token, call).await
    }

    /// Mints a token for the account with the partner's own id
    /// (`GET /api/subaccount/token?external_id=..[&expire=false]`). An unknown
    /// id is an [`Error::Api`] with status 404.
    pub async fn subaccount_token_by_external_id(
        &self,
        external_id: &ExternalId,
        expiry: Expiry,
    ) -> Result<SubaccountToken, Error> {
        let call = Call::new(Verb::Get, paths::SUBACCOUNT_TOKEN_BY_EXTERNAL_ID)
            .query("external_id", external_id.as_str());
        self.client.fetch(&self.token, expiry.apply(call)).await
    }

    /// The connector catalogue with each connector's connect form
    /// (`GET /api/servertypes`).
    pub async fn servertypes(&self) -> Result<Vec<Servertype>, Error> {
        let call = Call::new(Verb::Get, paths::SERVERTYPES);
        self.client.fetch_list(&self.token, call).await
    }
}
