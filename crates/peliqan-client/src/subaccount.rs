//! [`SubaccountApi`]: the calls made inside one end-customer account, with
//! that account's token.
//!
//! A sub-account token reaches only its own account: asking for another
//! account's connection answers 404 (or 403), surfaced as [`Error::Api`].
//! As for partner calls, each method names its [`Operation`] and calls that
//! operation's route in the client's dialect; table and script bodies take
//! the dialect's shape ([`peliqan_api::dialect::BodyShape`]).

use crate::auth::Auth;
use crate::client::PeliqanClient;
use crate::error::Error;
use peliqan_api::dialect::Vars;
use peliqan_api::{
    ConnectionLogEntry, CreatedConnection, Group, Interface, NewConnection, NewInterface, NewTable,
    Operation, Server, ServerId, Table,
};

/// Sub-account-token calls. Make one with [`PeliqanClient::subaccount`];
/// it is cheap to clone.
#[derive(Clone)]
pub struct SubaccountApi {
    client: PeliqanClient,
    auth: Auth,
}

impl std::fmt::Debug for SubaccountApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubaccountApi")
            .field("base_url", &self.client.base_url().as_str())
            .field("auth", &self.auth)
            .finish()
    }
}

fn server(id: ServerId) -> Vars<'static> {
    Vars {
        id: Some(id.0),
        ..Vars::default()
    }
}

impl SubaccountApi {
    pub(crate) fn new(client: PeliqanClient, auth: Auth) -> Self {
        Self { client, auth }
    }

    /// Adds a connection (`add_connection`, seed: `POST /api/servers`) with
    /// the connect-form fields of its servertype. For OAuth connectors the
    /// answer has an `oauth_url` to open for the end-customer; the connection
    /// stays `pending` until they grant access. Missing or invalid fields are
    /// an [`Error::Api`] with status 400 naming the field. Never retried.
    pub async fn add_connection(&self, body: &NewConnection) -> Result<CreatedConnection, Error> {
        let call = self
            .client
            .call(Operation::AddConnection, &Vars::default())?
            .json(body);
        self.client.fetch(&self.auth, call).await
    }

    /// Lists the account's connections (`list_connections`, seed:
    /// `GET /api/servers`).
    pub async fn connections(&self) -> Result<Vec<Server>, Error> {
        let call = self
            .client
            .call(Operation::ListConnections, &Vars::default())?;
        self.client.fetch_list(&self.auth, call).await
    }

    /// Reads one connection and its status (`get_connection`, seed:
    /// `GET /api/server/{id}`, `partner`: `GET /api/servers/{id}/`).
    pub async fn connection(&self, id: ServerId) -> Result<Server, Error> {
        let call = self.client.call(Operation::GetConnection, &server(id))?;
        self.client.fetch(&self.auth, call).await
    }

    /// Reads a connection's log (`connection_logs`, seed:
    /// `GET /api/server/{id}/logs`).
    pub async fn connection_logs(&self, id: ServerId) -> Result<Vec<ConnectionLogEntry>, Error> {
        let call = self.client.call(Operation::ConnectionLogs, &server(id))?;
        self.client.fetch_list(&self.auth, call).await
    }

    /// Creates a query table (`create_table`, seed: `POST /table`, `partner`:
    /// `POST /api/database/tables/create-sql-query/`). Never retried.
    pub async fn create_table(&self, body: &NewTable) -> Result<Table, Error> {
        let shape = self.client.routes().body_shape();
        let call = self
            .client
            .call(Operation::CreateTable, &Vars::default())?
            .json(&body.body(shape));
        self.client.fetch(&self.auth, call).await
    }

    /// Lists the account's scripts (`list_scripts`, `partner`:
    /// `GET /api/interfaces/`; the seed has no such route).
    pub async fn list_scripts(&self) -> Result<Vec<Interface>, Error> {
        let call = self.client.call(Operation::ListScripts, &Vars::default())?;
        self.client.fetch_list(&self.auth, call).await
    }

    /// Lists the account's script groups (`list_groups`, `partner`:
    /// `GET /api/groups/`; the seed has no such route).
    pub async fn list_groups(&self) -> Result<Vec<Group>, Error> {
        let call = self.client.call(Operation::ListGroups, &Vars::default())?;
        self.client.fetch_list(&self.auth, call).await
    }

    /// Creates a scheduled Python script (`create_script`, seed:
    /// `POST /interface`). Where the route puts the script in a group
    /// (`partner`: `POST /api/interfaces/group/{group_id}/`), the account's
    /// first group is used, as Peliqan's own SDK does; an account without
    /// groups is an [`Error::NoScriptGroup`]. Never retried.
    pub async fn create_interface(&self, body: &NewInterface) -> Result<Interface, Error> {
        let needs_group = self
            .client
            .routes()
            .route(Operation::CreateScript)
            .map_err(|e| Error::route(Operation::CreateScript, e))?
            .uses("group_id");
        let group_id = if needs_group {
            let listing = self.client.call(Operation::ListGroups, &Vars::default())?;
            let groups: Vec<Group> = self.list_groups().await?;
            let first = groups.first().ok_or_else(|| Error::NoScriptGroup {
                method: listing.method_str(),
                path: listing.path.clone(),
            })?;
            Some(first.id.0)
        } else {
            None
        };
        let shape = self.client.routes().body_shape();
        let call = self
            .client
            .call(
                Operation::CreateScript,
                &Vars {
                    group_id,
                    ..Vars::default()
                },
            )?
            .json(&body.body(shape));
        self.client.fetch(&self.auth, call).await
    }
}
