//! Paging over HTTP: the `page`/`size`/`sort` parameters, and a response that
//! carries the page as a JSON array with `X-Total-Count` and `Link`, or as the
//! Spring-style envelope for clients that accept `application/hal+json`.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, CONTENT_TYPE, LINK};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use idp_model::paging::{
    Page, PageEnvelope, PageMeta, PageRequest, Sort, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
use serde::Serialize;

use crate::error::ApiError;

pub const TOTAL_COUNT: &str = "x-total-count";

/// The paging parameters of a request, validated (400 naming the parameter).
/// Whether the client asked for the HAL envelope is remembered for the response.
#[derive(Clone, Debug)]
pub struct PageParams {
    pub request: PageRequest,
    pub hal: bool,
    pub uri: Uri,
}

impl PageParams {
    /// Checks the sort fields against what the collection can sort by.
    pub fn allow_sort(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for s in &self.request.sort {
            if !allowed.contains(&s.field.as_str()) {
                return Err(ApiError::invalid(
                    "sort",
                    format!(
                        "cannot sort by '{}'; allowed: {}",
                        s.field,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub fn parse_page_request(query: &str) -> Result<PageRequest, ApiError> {
    let mut req = PageRequest::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "page" => {
                req.page = v
                    .parse()
                    .map_err(|_| ApiError::invalid("page", "must be a non-negative integer"))?
            }
            "size" => {
                let size: u64 = v
                    .parse()
                    .map_err(|_| ApiError::invalid("size", "must be a positive integer"))?;
                if size == 0 || size > MAX_PAGE_SIZE {
                    return Err(ApiError::invalid(
                        "size",
                        format!("must be between 1 and {MAX_PAGE_SIZE}"),
                    ));
                }
                req.size = size;
            }
            "sort" => req
                .sort
                .push(Sort::parse(&v).map_err(|m| ApiError::invalid("sort", m))?),
            _ => {}
        }
    }
    if req.size == 0 {
        req.size = DEFAULT_PAGE_SIZE;
    }
    // The offset (page × size) goes to the database as a signed 64-bit value.
    if req
        .page
        .checked_mul(req.size)
        .is_none_or(|offset| offset > i64::MAX as u64)
    {
        return Err(ApiError::invalid("page", "is too large for the page size"));
    }
    Ok(req)
}

impl<S: Send + Sync> FromRequestParts<S> for PageParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = parse_page_request(parts.uri.query().unwrap_or(""))?;
        let hal = parts
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(|a| a.contains("application/hal+json"))
            .unwrap_or(false);
        Ok(PageParams {
            request,
            hal,
            uri: parts.uri.clone(),
        })
    }
}

/// A page ready to be answered.
pub struct Paged<T> {
    pub page: Page<T>,
    pub params: PageParams,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: u64, params: PageParams) -> Self {
        Paged {
            page: Page {
                items,
                total,
                request: params.request.clone(),
            },
            params,
        }
    }
}

fn link_for(uri: &Uri, page: u64, size: u64) -> String {
    let kept: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "page" && k != "size")
        .collect();
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.extend_pairs(kept);
    ser.append_pair("page", &page.to_string());
    ser.append_pair("size", &size.to_string());
    format!("{}?{}", uri.path(), ser.finish())
}

/// The `Link` header value: next/prev/first/last relative to the request's path.
pub fn link_header(uri: &Uri, req: &PageRequest, total: u64) -> String {
    let meta = PageMeta::new(req, total);
    let mut links = Vec::new();
    if req.page + 1 < meta.total_pages {
        links.push(format!(
            "<{}>; rel=\"next\"",
            link_for(uri, req.page + 1, req.size)
        ));
    }
    if req.page > 0 {
        let prev = req.page.min(meta.total_pages.max(1)) - 1;
        links.push(format!("<{}>; rel=\"prev\"", link_for(uri, prev, req.size)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_for(uri, 0, req.size)));
    links.push(format!(
        "<{}>; rel=\"last\"",
        link_for(uri, meta.total_pages.saturating_sub(1), req.size)
    ));
    links.join(", ")
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let Paged { page, params } = self;
        let mut headers = HeaderMap::new();
        headers.insert(TOTAL_COUNT, HeaderValue::from(page.total));
        if let Ok(v) = HeaderValue::from_str(&link_header(&params.uri, &page.request, page.total)) {
            headers.insert(LINK, v);
        }
        if params.hal {
            let env = PageEnvelope {
                page: PageMeta::new(&page.request, page.total),
                content: page.items,
            };
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/hal+json"),
            );
            let body = serde_json::to_vec(&env).unwrap_or_default();
            (headers, body).into_response()
        } else {
            (headers, axum::Json(page.items)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_validated() {
        let r = parse_page_request("page=2&size=10&sort=name,desc&sort=createdAt").unwrap();
        assert_eq!(r.page, 2);
        assert_eq!(r.size, 10);
        assert_eq!(r.sort.len(), 2);
        assert!(parse_page_request("size=0").is_err());
        assert!(parse_page_request("size=1001").is_err());
        assert!(parse_page_request("page=-1").is_err());
        assert_eq!(parse_page_request("").unwrap().size, 100);
        // Found by fuzzing: an offset past i64::MAX made the database layer panic.
        assert!(parse_page_request("page=18446744073709551615").is_err());
        assert!(parse_page_request("page=9223372036854775807&size=2").is_err());
        let max = parse_page_request("page=9223372036854775&size=1000").unwrap();
        assert_eq!(max.offset(), 9_223_372_036_854_775_000);
    }

    #[test]
    fn link_header_has_next_and_prev_and_keeps_filters() {
        let uri: Uri = "/identity/v1/organizations?name=x&page=1&size=10"
            .parse()
            .unwrap();
        let req = parse_page_request(uri.query().unwrap()).unwrap();
        let l = link_header(&uri, &req, 35);
        assert!(l.contains("</identity/v1/organizations?name=x&page=2&size=10>; rel=\"next\""));
        assert!(l.contains("page=0&size=10>; rel=\"prev\""));
        assert!(l.contains("page=3&size=10>; rel=\"last\""));
    }
}
