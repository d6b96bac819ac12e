//! A partner's own actix-web app that mounts the token service's endpoints
//! under `/peliqan`, with its own cookie session as the identity: no second
//! process, no JWT.
//!
//! ```sh
//! peliqan-emulator --listen 127.0.0.1:8900     # prints the partner token
//! PELIQAN_API_URL=http://127.0.0.1:8900 PELIQAN_PARTNER_TOKEN=<token> \
//! TOKEN_SERVICE_ALLOWED_ORIGINS=http://127.0.0.1:8000 TOKEN_SERVICE_AUTO_PROVISION=true \
//! cargo run -p peliqan-token-service --example embedded    # listens on 127.0.0.1:8000
//! curl -c jar -X POST 'http://127.0.0.1:8000/login?user=ann&tenant=acme'
//! curl -b jar -H 'Origin: http://127.0.0.1:8000' -H 'X-Requested-With: curl' \
//!      -X POST http://127.0.0.1:8000/peliqan/v1/token
//! ```
//!
//! The settings are the service's own keys, read from the environment
//! (`Settings::from_map_embedded`: no identity keys needed). The session
//! here is a toy (a signed-in user kept in memory by a random cookie); a
//! real app implements [`PartnerSession`] for the extractor its handlers
//! already use.

use actix_web::dev::Payload;
use actix_web::{App, FromRequest, HttpRequest, HttpResponse, HttpServer, web};
use peliqan_token_service::auth::Profile;
use peliqan_token_service::settings::load;
use peliqan_token_service::{Embedded, PartnerSession, PartnerUser, Settings};
use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex};

/// The app's sessions: cookie value -> (user, tenant).
type Store = Arc<Mutex<HashMap<String, (String, String)>>>;

/// The app's own session extractor.
struct AppSession(Option<(String, String)>);

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let store = req.app_data::<web::Data<Store>>();
        let id = req
            .headers()
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| {
                c.split(';')
                    .find_map(|p| p.trim().strip_prefix("app_session="))
            });
        let user = match (store, id) {
            (Some(store), Some(id)) => store.lock().ok().and_then(|s| s.get(id).cloned()),
            _ => None,
        };
        ready(Ok(Self(user)))
    }
}

/// What the token service needs from the app's session.
impl PartnerSession for AppSession {
    fn user(&self) -> Option<PartnerUser> {
        let (subject, tenant) = self.0.clone()?;
        Some(PartnerUser {
            subject,
            tenant,
            profile: Profile::default(),
        })
    }
}

/// `POST /login?user=U&tenant=T`: the toy login, setting the cookie.
async fn login(
    store: web::Data<Store>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (Some(user), Some(tenant)) = (query.get("user"), query.get("tenant")) else {
        return HttpResponse::BadRequest().body("POST /login?user=U&tenant=T");
    };
    let id = format!("{:032x}", rand::random::<u128>());
    if let Ok(mut s) = store.lock() {
        s.insert(id.clone(), (user.clone(), tenant.clone()));
    }
    HttpResponse::Ok()
        .insert_header((
            "set-cookie",
            format!("app_session={id}; Path=/; HttpOnly; SameSite=Lax"),
        ))
        .body("signed in")
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().init();
    let env = std::env::vars();
    let settings = Settings::from_map_embedded(&load::raw(None, env)?)?;
    let peliqan = Embedded::new::<AppSession>(&settings)?;
    let store = web::Data::new(Store::default());
    let listen = std::env::var("APP_LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(store.clone())
            .route("/login", web::post().to(login))
            .service(peliqan.scope("/peliqan"))
    })
    .bind(&listen)?;
    println!("listening on http://{}", server.addrs()[0]);
    server.run().await?;
    Ok(())
}
