//! Paging over HTTP: the `page`/`size`/`sort` parameters, and a response that
//! carries the page as a JSON array with `X-Total-Count` and `Link`, or as the
//! Spring-style envelope for clients that accept `application/hal+json`.

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
    /// The request's path and query, for the `Link` header.
    pub path: String,
    pub query: String,
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

impl PageParams {
    /// The paging parameters of a request from its path, query and `Accept` header.
    pub fn from_request(
        path: &str,
        query: &str,
        accept: Option<&str>,
    ) -> Result<PageParams, ApiError> {
        let request = parse_page_request(query)?;
        let hal = accept.is_some_and(|a| a.contains("application/hal+json"));
        Ok(PageParams {
            request,
            hal,
            path: path.to_string(),
            query: query.to_string(),
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

fn link_for(path: &str, query: &str, page: u64, size: u64) -> String {
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "page" && k != "size")
        .collect();
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.extend_pairs(kept);
    ser.append_pair("page", &page.to_string());
    ser.append_pair("size", &size.to_string());
    format!("{path}?{}", ser.finish())
}

/// The `Link` header value: next/prev/first/last relative to the request's path.
pub fn link_header(path: &str, query: &str, req: &PageRequest, total: u64) -> String {
    let meta = PageMeta::new(req, total);
    let mut links = Vec::new();
    if req.page + 1 < meta.total_pages {
        links.push(format!(
            "<{}>; rel=\"next\"",
            link_for(path, query, req.page + 1, req.size)
        ));
    }
    if req.page > 0 {
        let prev = req.page.min(meta.total_pages.max(1)) - 1;
        links.push(format!(
            "<{}>; rel=\"prev\"",
            link_for(path, query, prev, req.size)
        ));
    }
    links.push(format!(
        "<{}>; rel=\"first\"",
        link_for(path, query, 0, req.size)
    ));
    links.push(format!(
        "<{}>; rel=\"last\"",
        link_for(path, query, meta.total_pages.saturating_sub(1), req.size)
    ));
    links.join(", ")
}

impl<T: Serialize> Paged<T> {
    /// The answer's parts: its headers (`X-Total-Count`, `Link`, and the content
    /// type of the HAL envelope) and its JSON body.
    pub fn into_parts(self) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let Paged { page, params } = self;
        let mut headers = vec![
            (TOTAL_COUNT, page.total.to_string()),
            (
                "link",
                link_header(&params.path, &params.query, &page.request, page.total),
            ),
        ];
        let body = if params.hal {
            let env = PageEnvelope {
                page: PageMeta::new(&page.request, page.total),
                content: page.items,
            };
            headers.push(("content-type", "application/hal+json".to_string()));
            serde_json::to_vec(&env)
        } else {
            headers.push(("content-type", "application/json".to_string()));
            serde_json::to_vec(&page.items)
        };
        (headers, body.unwrap_or_default())
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
        let (path, query) = ("/identity/v1/organizations", "name=x&page=1&size=10");
        let req = parse_page_request(query).unwrap();
        let l = link_header(path, query, &req, 35);
        assert!(l.contains("</identity/v1/organizations?name=x&page=2&size=10>; rel=\"next\""));
        assert!(l.contains("page=0&size=10>; rel=\"prev\""));
        assert!(l.contains("page=3&size=10>; rel=\"last\""));
    }
}
