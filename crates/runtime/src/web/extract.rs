//! The actix-web extractors: every bad input is a problem naming the field (400), a
//! path that names nothing a 404, a body over the limit a 413, a missing or bad
//! token a 401. The parsing itself is in `crate::extract`, `crate::paging` and
//! `crate::auth`.

use std::future::{ready, Ready};
use std::str::FromStr;
use std::task::Poll;

use actix_web::dev::Payload;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures::future::LocalBoxFuture;
use idp_bearer::Verifier;
use serde::de::DeserializeOwned;

use crate::auth::{Caller, MaybeCaller};
use crate::error::ApiError;
use crate::extract::{
    is_json_content_type, no_such_resource, not_json, parse_json, parse_path_id, parse_query,
    too_large, Body, IdAction, Json, PathId, Query,
};
use crate::paging::PageParams;
use crate::request_id::RequestContext;

fn header(req: &HttpRequest, name: actix_web::http::header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl FromRequest for Body {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// Within the limit of the app's `PayloadConfig` (the service's
    /// `http.max_body_bytes`): a longer body, announced or streamed, is a 413.
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            read.await.map(Body).map_err(|e| {
                if e.as_response_error().status_code().as_u16() == 413 {
                    too_large()
                } else {
                    ApiError::bad_request("could not read the body")
                }
            })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json_content_type(header(req, CONTENT_TYPE));
        let body = Body::from_request(req, payload);
        Box::pin(async move {
            let Body(bytes) = body.await?;
            if !is_json {
                return Err(not_json());
            }
            parse_json(&bytes).map(Json)
        })
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// The path segment `name`, or the route's only segment when it has no such name.
fn segment<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    let info = req.match_info();
    info.get(name).or_else(|| {
        let mut all = info.iter();
        match (all.next(), all.next()) {
            (Some((_, v)), None) => Some(v),
            _ => None,
        }
    })
}

impl<T: FromStr> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            segment(req, "id")
                .ok_or_else(no_such_resource)
                .and_then(parse_path_id)
                .map(PathId),
        )
    }
}

impl<T: FromStr, A: FromStr> FromRequest for IdAction<T, A> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let info = req.match_info();
        let parsed = match (info.get("id"), info.get("action")) {
            (Some(id), Some(action)) => parse_path_id::<T>(id).and_then(|id| {
                action
                    .parse::<A>()
                    .map(|a| IdAction(id, a))
                    .map_err(|_| no_such_resource())
            }),
            _ => Err(no_such_resource()),
        };
        ready(parsed)
    }
}

impl FromRequest for PageParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(PageParams::from_request(
            req.path(),
            req.query_string(),
            header(req, ACCEPT),
        ))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// Verifies the bearer token with the app's [`Verifier`] (registered by the
    /// service frame); records the caller in the request's span and access log.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(verifier) = req.app_data::<Verifier>().cloned() else {
            return Box::pin(ready(Err(ApiError::internal(anyhow::anyhow!(
                "no token verifier registered in the app"
            )))));
        };
        let ctx = req.extensions().get::<RequestContext>().cloned();
        let span = req
            .extensions()
            .get::<tracing_actix_web::RootSpan>()
            .map(|s| (**s).clone())
            .unwrap_or_else(tracing::Span::current);
        let header = header(req, AUTHORIZATION).map(str::to_string);
        let mut verify = Box::pin(async move {
            Caller::authenticate(&verifier, header.as_deref(), ctx.as_ref(), &span).await
        });
        Box::pin(async move {
            // A cached token or a known key answers at the first poll. Otherwise
            // the key is being fetched: actix-web drops this extractor as soon as
            // another one of the handler fails, and a fetch dropped halfway would
            // count as a failed one; so it runs on as a task of its own.
            if let Poll::Ready(r) = futures::poll!(&mut verify) {
                return r;
            }
            actix_web::rt::spawn(verify)
                .await
                .map_err(|e| ApiError::internal(anyhow::anyhow!("token verification: {e}")))?
        })
    }
}

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(AUTHORIZATION).is_none() {
            return Box::pin(ready(Ok(MaybeCaller(None))));
        }
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { caller.await.map(|c| MaybeCaller(Some(c))) })
    }
}
