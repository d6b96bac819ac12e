//! [`SubaccountApi`]: the calls made inside one end-customer account, with
//! that account's token.
//!
//! A sub-account token reaches only its own account: asking for another
//! account's connection answers 404 (or 403), surfaced as [`Error::Api`].

use crate::call::{Call, Verb};
use crate::client::PeliqanClient;
use crate::error::Error;
use crate::secret::Secret;
use peliqan_api::{
    ConnectionLogEntry, CreatedConnection, Interface, NewConnection, NewInterface, NewTable,
    Server, ServerId, Table, paths,
};

/// Sub-account-token calls. Make one with [`PeliqanClient::subaccount`];
/// it is cheap to clone.
#[derive(Clone)]
pub struct SubaccountApi {
    client: PeliqanClient,
    token: Secret,
}

impl std::fmt::Debug for SubaccountApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubaccountApi")
            .field("base_url", &self.client.base_url().as_str())
            .field("token", &self.token)
            .finish()
    }
}

impl SubaccountApi {
    pub(crate) fn new(client: PeliqanClient, token: Secret) -> Self {
        Self { client, token }
    }

    /// Adds a connection (`POST /api/servers`) with the connect-form fields
    /// of its servertype. For OAuth connectors the answer has an `oauth_url`
    /// to open for the end-customer; the connection stays `pending` until
    /// they grant access. Missing or invalid fields are an [`Error::Api`]
    /// with status 400 naming the field. Never retried.
    pub async fn add_connection(&self, body: &NewConnection) -> Result<CreatedConnection, Error> {
        let call = Call::new(Verb::Post, paths::SERVERS).json(body);
        self.client.fetch(&self.token, call).await
    }

    /// Lists the account's connections (`GET /api/servers`).
    pub async fn connections(&self) -> Result<Vec<Server>, Error> {
        let call = Call::new(Verb::Get, paths::SERVERS);
        self.client.fetch_list(&self.token, call).await
    }

    /// Reads one connection and its status (`GET /api/server/{id}`).
    pub async fn connection(&self, id: ServerId) -> Result<Server, Error> {
        let call = Call::new(Verb::Get, paths::server(id));
        self.client.fetch(&self.token, call).await
    }

    /// Reads a connection's log (`GET /api/server/{id}/logs`).
    pub async fn connection_logs(&self, id: ServerId) -> Result<Vec<ConnectionLogEntry>, Error> {
        let call = Call::new(Verb::Get, paths::server_logs(id));
        self.client.fetch_list(&self.token, call).await
    }

    /// Creates a query table (`POST /table`). Never retried.
    pub async fn create_table(&self, body: &NewTable) -> Result<Table, Error> {
        let call = Call::new(Verb::Post, paths::TABLE).json(body);
        self.client.fetch(&self.token, call).await
    }

    /// Creates a scheduled Python script (`POST /interface`). Never retried.
    pub async fn create_interface(&self, body: &NewInterface) -> Result<Interface, Error> {
        let call = Call::new(Verb::Post, paths::INTERFACE).json(body);
        self.client.fetch(&self.token, call).await
    }
}
