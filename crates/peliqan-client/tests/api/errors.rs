//! What the client makes of answers the emulator never gives: malformed
//! JSON, other list shapes, HTML error pages, no server at all. A tiny
//! local server (see `helpers::spawn_raw_server`) plays Peliqan here.

use crate::helpers::{client_for, fast_retries, spawn_raw_server};
use peliqan_client::{Error, Expiry, ExternalId, RetryPolicy, Secret};
use std::error::Error as _;

#[tokio::test]
async fn a_malformed_answer_is_a_decode_error_naming_the_json_path() {
    let server = spawn_raw_server(
        200,
        r#"[{"id": 1, "name": "a"}, {"id": "seven", "name": "b"}]"#,
    )
    .await;
    let partner = client_for(&server.url, |b| b).partner(Secret::new("tok"));

    let err = partner.servertypes().await.unwrap_err();

    let Error::Decode {
        method,
        ref path,
        ref json_path,
        ..
    } = err
    else {
        panic!("expected a decode error, got {err:?}")
    };
    assert_eq!(
        (method, path.as_str(), json_path.as_str()),
        ("GET", "/api/servertypes", "[1].id")
    );
    assert!(err.to_string().contains("[1].id"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        server.requests.lock().unwrap().len(),
        1,
        "decode errors are not retried"
    );
}

#[tokio::test]
async fn a_paginated_list_answer_is_read_from_its_results() {
    let server = spawn_raw_server(
        200,
        r#"{"count": 2, "next": null, "results": [{"id": 5, "external_id": "a"}, {"id": 6, "external_id": "b"}]}"#,
    )
    .await;
    let partner = client_for(&server.url, |b| b).partner(Secret::new("tok"));

    let listed = partner.list_subaccounts().await.unwrap();

    assert_eq!(
        listed.iter().map(|s| s.id.0).collect::<Vec<_>>(),
        vec![5, 6]
    );
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_it_and_sends_the_jwt_header() {
    let server = spawn_raw_server(200, r#"{"token": "t", "subaccount_id": 3}"#).await;
    let client = client_for(&format!("{}/peliqan/", server.url), |b| {
        b.user_agent("acme-backend/1.0")
    });

    client
        .partner(Secret::new("partner-tok"))
        .subaccount_token_by_external_id(&ExternalId::from("wood 123"), Expiry::NonExpiring)
        .await
        .unwrap();

    let head = server.requests.lock().unwrap()[0].to_lowercase();
    assert!(
        head.starts_with(
            "get /peliqan/api/subaccount/token?external_id=wood+123&expire=false http/1.1"
        ),
        "{head}"
    );
    assert!(head.contains("authorization: jwt partner-tok"), "{head}");
    assert!(head.contains("user-agent: acme-backend/1.0"), "{head}");
}

#[tokio::test]
async fn an_html_error_page_keeps_its_text_as_detail_and_a_502_is_retried() {
    let server = spawn_raw_server(502, "<html>Bad Gateway</html>").await;
    let partner = client_for(&server.url, |b| b.retry(fast_retries(2))).partner(Secret::new("tok"));

    let err = partner
        .subaccount(peliqan_client::SubaccountId(1))
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(502));
    assert_eq!(
        err.api_body().unwrap().detail.as_deref(),
        Some("<html>Bad Gateway</html>")
    );
    assert_eq!(server.requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_that_never_shows_the_token_or_query() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let partner =
        client_for(&url, |b| b.retry(fast_retries(1))).partner(Secret::new("super-secret-token"));

    let err = partner
        .subaccount_token_by_external_id(&ExternalId::from("private_tenant"), Expiry::NonExpiring)
        .await
        .unwrap_err();

    assert!(
        matches!(err, Error::Transport { method: "GET", .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{partner:?}")];
    let mut source = err.source();
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    for text in texts {
        assert!(!text.contains("super-secret-token"), "{text}");
        assert!(
            !text.contains("private_tenant") && !text.contains("expire="),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_without_printing_it() {
    let partner = client_for("http://127.0.0.1:9", |b| b.retry(RetryPolicy::none()))
        .partner(Secret::new("bad\ntoken"));

    let err = partner.servertypes().await.unwrap_err();

    assert!(matches!(err, Error::InvalidToken { .. }), "{err:?}");
    assert!(!err.to_string().contains("bad"), "{err}");
}
