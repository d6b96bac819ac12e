//! `tenants list | show | create | update | delete | token`: the partner's
//! sub-accounts, by external id, with their hydration state from the ledger.

use super::output::{CliError, Out, table};
use crate::hydrate::Ledger;
use crate::settings::Settings;
use crate::upstream::Credential;
use clap::{Args, Subcommand};
use peliqan_client::{Expiry, ExternalId, Operation, PartnerApi, Subaccount, SubaccountInput};
use serde_json::{Value, json};
use std::process::ExitCode;

/// What to do with the sub-accounts.
#[derive(Subcommand, Debug)]
pub enum TenantsCommand {
    /// List every sub-account with its hydration state.
    List,
    /// One tenant's details, hydration state and applied steps.
    Show {
        /// The tenant's external id.
        tenant: String,
    },
    /// Create a sub-account.
    Create {
        /// The partner's unique id for the customer.
        #[arg(long)]
        external_id: String,
        #[allow(missing_docs)] // clap takes each flattened option's own doc
        #[command(flatten)]
        profile: Profile,
    },
    /// Change a sub-account's details (fields not given are kept).
    Update {
        /// The tenant's external id.
        tenant: String,
        #[allow(missing_docs)] // clap takes each flattened option's own doc
        #[command(flatten)]
        profile: Profile,
    },
    /// Delete a sub-account and everything in it.
    Delete {
        /// The tenant's external id.
        tenant: String,
        /// Confirm: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Print a short-lived token for the tenant's sub-account.
    Token {
        /// The tenant's external id.
        tenant: String,
        /// A token that never expires (server-side use only; warned about).
        #[arg(long)]
        non_expiring: bool,
    },
}

/// The sub-account's details.
#[derive(Args, Debug)]
pub struct Profile {
    /// Company name.
    #[arg(long)]
    company_name: Option<String>,
    /// Contact email.
    #[arg(long)]
    email: Option<String>,
    /// Contact first name.
    #[arg(long)]
    first_name: Option<String>,
    /// Contact last name.
    #[arg(long)]
    last_name: Option<String>,
    /// Language, e.g. `en`.
    #[arg(long)]
    language: Option<String>,
}

impl Profile {
    fn apply(self, input: &mut SubaccountInput) {
        let set = |field: &mut Option<String>, v: Option<String>| {
            if v.is_some() {
                *field = v;
            }
        };
        set(&mut input.company_name, self.company_name);
        set(&mut input.email, self.email);
        set(&mut input.first_name, self.first_name);
        set(&mut input.last_name, self.last_name);
        set(&mut input.language, self.language);
    }
}

/// The partner side of `settings`.
pub(super) struct Partner {
    pub api: PartnerApi,
    pub credential: Credential,
    pub by_external_id: bool,
}

impl Partner {
    pub fn new(settings: &Settings) -> Result<(Self, peliqan_client::PeliqanClient), CliError> {
        let client = settings
            .upstream
            .client()
            .map_err(|e| CliError::config(format!("the Peliqan client: {e}")))?;
        let credentials = settings.upstream.credentials.clone();
        let partner = Self {
            api: client.partner_with(credentials.clone()),
            credential: Credential::of(&credentials),
            by_external_id: client
                .routes()
                .route(Operation::GetSubaccountByExternalId)
                .is_ok(),
        };
        Ok((partner, client))
    }

    pub fn error(&self, what: &str, e: &peliqan_client::Error) -> CliError {
        CliError::peliqan(what, e, &self.credential)
    }

    pub async fn list(&self) -> Result<Vec<Subaccount>, CliError> {
        self.api
            .list_subaccounts()
            .await
            .map_err(|e| self.error("listing the sub-accounts", &e))
    }

    /// The sub-account with `external_id`: by the dialect's lookup route
    /// when it has one, else from the list.
    pub async fn find(&self, external_id: &str) -> Result<Subaccount, CliError> {
        let unknown = || {
            CliError::new(
                "unknown_tenant",
                format!("no sub-account has the external id `{external_id}`"),
                1,
            )
        };
        if self.by_external_id {
            return match self
                .api
                .subaccount_by_external_id(&ExternalId::from(external_id))
                .await
            {
                Ok(a) => Ok(a),
                Err(e) if e.status() == Some(404) => Err(unknown()),
                Err(e) => Err(self.error("looking the tenant up", &e)),
            };
        }
        self.list()
            .await?
            .into_iter()
            .find(|a| a.external_id.as_str() == external_id)
            .ok_or_else(unknown)
    }
}

fn account_json(a: &Subaccount) -> Value {
    json!({
        "subaccount_id": a.id.0,
        "external_id": a.external_id.as_str(),
        "company_name": a.company_name,
        "email": a.email,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "language": a.language,
    })
}

/// The ledger, if one exists already (listing never creates one).
fn existing_ledger(settings: &Settings) -> Option<Ledger> {
    if settings.shared.is_none() && !settings.hydration.ledger_file.exists() {
        return None;
    }
    crate::hydrate::ledger_of(settings).ok()
}

pub(super) async fn run(
    settings: &Settings,
    command: TenantsCommand,
    out: &Out,
) -> Result<ExitCode, CliError> {
    let (partner, _) = Partner::new(settings)?;
    match command {
        TenantsCommand::List => {
            let accounts = partner.list().await?;
            let ledger = existing_ledger(settings);
            let mut rows = Vec::new();
            let mut items = Vec::new();
            for a in &accounts {
                let record = match &ledger {
                    Some(l) => l.tenant(a.id.0).await.ok().flatten(),
                    None => None,
                };
                let state = record.as_ref().map_or("-".to_owned(), |r| r.state.clone());
                rows.push(vec![
                    a.id.0.to_string(),
                    a.external_id.as_str().to_owned(),
                    a.company_name.clone().unwrap_or_default(),
                    a.email.clone().unwrap_or_default(),
                    state.clone(),
                ]);
                let mut item = account_json(a);
                item["hydration"] = json!(record);
                items.push(item);
            }
            let human = table(
                &["ID", "EXTERNAL ID", "COMPANY", "EMAIL", "HYDRATION"],
                &rows,
            ) + &super::output::count(accounts.len(), "tenant");
            out.emit(&human, &json!({ "tenants": items }));
        }
        TenantsCommand::Show { tenant } => {
            let a = partner.find(&tenant).await?;
            let ledger = existing_ledger(settings);
            let (record, steps) = match &ledger {
                Some(l) => (
                    l.tenant(a.id.0).await.ok().flatten(),
                    l.steps(a.id.0).await.unwrap_or_default(),
                ),
                None => (None, Vec::new()),
            };
            let mut human = String::new();
            for (k, v) in [
                ("external id", Some(a.external_id.as_str().to_owned())),
                ("sub-account", Some(a.id.0.to_string())),
                ("company", a.company_name.clone()),
                ("email", a.email.clone()),
                ("name", {
                    let n = [a.first_name.clone(), a.last_name.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    (!n.is_empty()).then_some(n)
                }),
                ("language", a.language.clone()),
            ] {
                human.push_str(&format!("{k:<12} {}\n", v.unwrap_or_else(|| "-".into())));
            }
            match &record {
                Some(r) => human.push_str(&format!(
                    "{:<12} {} (blueprint version {}, attempt {}, {}){}\n",
                    "hydration",
                    r.state,
                    r.version,
                    r.attempts,
                    r.at,
                    r.error
                        .as_ref()
                        .map(|e| format!("\n{:<12} {e}", "last error"))
                        .unwrap_or_default()
                )),
                None => human.push_str(&format!("{:<12} never hydrated\n", "hydration")),
            }
            for s in &steps {
                human.push_str(&format!(
                    "  {} {}: {} (version {})\n",
                    s.kind,
                    s.name,
                    s.state.as_str(),
                    s.version
                ));
            }
            let mut body = account_json(&a);
            body["hydration"] = json!(record);
            body["steps"] = json!(steps);
            out.emit(&human, &body);
        }
        TenantsCommand::Create {
            external_id,
            profile,
        } => {
            if external_id.trim().is_empty() {
                return Err(CliError::new("usage", "--external-id must not be empty", 2));
            }
            let mut input = SubaccountInput {
                external_id: ExternalId::from(external_id.as_str()),
                ..SubaccountInput::default()
            };
            profile.apply(&mut input);
            let a = partner
                .api
                .create_subaccount(&input)
                .await
                .map_err(|e| partner.error("creating the sub-account", &e))?;
            let human = format!(
                "created sub-account {} for `{}`\n",
                a.id.0,
                a.external_id.as_str()
            );
            out.emit(&human, &account_json(&a));
        }
        TenantsCommand::Update { tenant, profile } => {
            let a = partner.find(&tenant).await?;
            let mut input = SubaccountInput {
                external_id: a.external_id.clone(),
                first_name: a.first_name.clone(),
                last_name: a.last_name.clone(),
                email: a.email.clone(),
                language: a.language.clone(),
                company_name: a.company_name.clone(),
                ..SubaccountInput::default()
            };
            profile.apply(&mut input);
            let updated = partner
                .api
                .update_subaccount(a.id, &input)
                .await
                .map_err(|e| partner.error("updating the sub-account", &e))?;
            let human = format!("updated sub-account {} (`{tenant}`)\n", updated.id.0);
            out.emit(&human, &account_json(&updated));
        }
        TenantsCommand::Delete { tenant, yes } => {
            if !yes {
                return Err(CliError::new(
                    "usage",
                    format!(
                        "deleting `{tenant}` removes its sub-account and everything in it; \
                         add --yes to confirm"
                    ),
                    2,
                ));
            }
            let a = partner.find(&tenant).await?;
            partner
                .api
                .delete_subaccount(a.id)
                .await
                .map_err(|e| partner.error("deleting the sub-account", &e))?;
            let human = format!("deleted sub-account {} (`{tenant}`)\n", a.id.0);
            out.emit(
                &human,
                &json!({"deleted": true, "subaccount_id": a.id.0, "external_id": tenant}),
            );
        }
        TenantsCommand::Token {
            tenant,
            non_expiring,
        } => {
            let a = partner.find(&tenant).await?;
            let expiry = if non_expiring {
                eprintln!(
                    "peliqan-token-service: WARNING: this token for `{tenant}` NEVER EXPIRES: \
                     it is for server-side use only; never give it to a browser, and do not \
                     leave it in shell history or logs"
                );
                Expiry::NonExpiring
            } else {
                Expiry::ShortLived
            };
            let token = partner
                .api
                .subaccount_token(a.id, expiry)
                .await
                .map_err(|e| partner.error("getting the token", &e))?;
            let body = json!({
                "subaccount_id": a.id.0,
                "external_id": tenant,
                "expires": !non_expiring,
                "token": token.token,
            });
            out.emit(&format!("{}\n", token.token), &body);
        }
    }
    Ok(ExitCode::SUCCESS)
}
