//! Reading list answers, and paging through a listing whose route takes
//! `{page}` / `{per_page}` (the `partner` dialect's sub-account list).
//!
//! Peliqan's list shape is not documented: an answer may be a JSON array or
//! a Django REST Framework page `{"results": [...], "next": ..}`. A paged
//! listing is read page by page, from 1, until a page is shorter than asked
//! for, says there is no `next`, is empty, repeats the previous page (a
//! server that ignores `page`), or [`MAX_PAGES`] were read.

use crate::auth::Auth;
use crate::call::{Call, decode};
use crate::client::PeliqanClient;
use crate::error::Error;
use peliqan_api::Operation;
use peliqan_api::dialect::Vars;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Items asked for per page (`{per_page}`).
pub(crate) const PER_PAGE: u64 = 100;
/// Pages read at most in one listing (100 000 items at [`PER_PAGE`]).
pub(crate) const MAX_PAGES: u64 = 1000;

/// One list answer.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// For a DRF page: whether its `next` names a further page.
    pub(crate) has_next: Option<bool>,
}

/// Reads a JSON array or a DRF page.
pub(crate) fn read_page<T: DeserializeOwned>(call: &Call, body: &[u8]) -> Result<Page<T>, Error> {
    #[derive(Deserialize)]
    struct Drf<T> {
        results: Vec<T>,
        #[serde(default)]
        next: Option<serde_json::Value>,
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let page: Drf<T> = decode(call.method_str(), &call.path, body)?;
        let has_next = page
            .next
            .is_some_and(|n| !n.is_null() && n != serde_json::Value::String(String::new()));
        Ok(Page {
            items: page.results,
            has_next: Some(has_next),
        })
    } else {
        Ok(Page {
            items: call.decode(body)?,
            has_next: None,
        })
    }
}

impl PeliqanClient {
    /// Sends `call` and reads its list answer (one page).
    pub(crate) async fn fetch_list<T: DeserializeOwned>(
        &self,
        auth: &Auth,
        call: Call,
    ) -> Result<Vec<T>, Error> {
        let body = self.execute(auth, &call).await?;
        read_page(&call, &body).map(|page| page.items)
    }

    /// Lists everything `op` lists: one call, or every page when its route
    /// takes `{page}`.
    pub(crate) async fn fetch_all<T: DeserializeOwned>(
        &self,
        auth: &Auth,
        op: Operation,
    ) -> Result<Vec<T>, Error> {
        let route = self.routes().route(op).map_err(|e| Error::route(op, e))?;
        if !route.uses("page") {
            return self
                .fetch_list(auth, self.call(op, &Vars::default())?)
                .await;
        }
        let sized = route.uses("per_page");
        let mut all = Vec::new();
        let mut previous: Option<Vec<u8>> = None;
        for page in 1..=MAX_PAGES {
            let call = self.call(
                op,
                &Vars {
                    page: Some(page),
                    per_page: Some(PER_PAGE),
                    ..Vars::default()
                },
            )?;
            let body = self.execute(auth, &call).await?;
            if previous.as_deref() == Some(body.as_slice()) {
                // The server ignores `page`: this page was read already.
                return Ok(all);
            }
            let Page { items, has_next } = read_page::<T>(&call, &body)?;
            let short = items.is_empty() || (sized && (items.len() as u64) < PER_PAGE);
            all.extend(items);
            if short || has_next == Some(false) {
                return Ok(all);
            }
            previous = Some(body);
        }
        tracing::warn!(
            operation = %op,
            pages = MAX_PAGES,
            "stopped listing after the maximum number of pages"
        );
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::Dialect;

    fn call() -> Call {
        PeliqanClient::builder("http://127.0.0.1:9")
            .dialect(Dialect::Partner)
            .build()
            .unwrap()
            .call(
                Operation::ListSubaccounts,
                &Vars {
                    page: Some(1),
                    per_page: Some(PER_PAGE),
                    ..Vars::default()
                },
            )
            .unwrap()
    }

    #[test]
    fn arrays_and_drf_pages_are_read() {
        let c = call();
        let p: Page<u64> = read_page(&c, b" [1, 2]").unwrap();
        assert_eq!((p.items, p.has_next), (vec![1, 2], None));
        let p: Page<u64> = read_page(
            &c,
            br#"{"count": 9, "next": "http://x/?page=2", "results": [3]}"#,
        )
        .unwrap();
        assert_eq!((p.items, p.has_next), (vec![3], Some(true)));
        let p: Page<u64> = read_page(&c, br#"{"next": null, "results": []}"#).unwrap();
        assert_eq!(p.has_next, Some(false));
        let p: Page<u64> = read_page(&c, br#"{"results": [4]}"#).unwrap();
        assert_eq!(p.has_next, Some(false));
        let err = read_page::<u64>(&c, br#"{"items": []}"#).err().unwrap();
        assert!(err.to_string().contains("results"), "{err}");
    }
}
