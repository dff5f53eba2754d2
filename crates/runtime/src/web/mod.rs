//! The services' HTTP layer on actix-web 4, and how a service uses it.
//!
//! Everything a handler needs is re-exported here: `use idp_runtime::web::*`-style
//! imports of [`Json`], [`Created`], [`Query`], [`PathId`], [`IdAction`],
//! [`Activation`], [`Body`], [`Caller`], [`MaybeCaller`], [`PageParams`], [`Paged`],
//! [`ApiError`], [`ApiResult`], plus actix-web's [`Data`] and [`ServiceConfig`].
//! The organization service (`crates/organization`) is the worked example.
//!
//! # How a service uses it
//!
//! **The service** (`lib.rs`): build the state, then hand the frame a function
//! that mounts the resources; the frame adds `/healthz`, `/readyz`, `/metrics`,
//! the body limit, the problem fallbacks, request ids, access log, metrics, the
//! token verifier, and serves with graceful drain:
//!
//! ```ignore
//! let state = Data::new(AppState { .. });
//! Ok(f.into_app(move |cfg| routes(cfg, state.clone()), Vec::new()))
//!
//! pub fn routes(cfg: &mut ServiceConfig, state: Data<AppState>) {
//!     cfg.app_data(state).service(
//!         web::scope("/identity/v1")
//!             .configure(organizations::routes::configure)
//!             .configure(identity_providers::routes::configure),
//!     );
//! }
//! ```
//!
//! **A resource** (`<resource>/routes.rs`) registers its own routes, full path
//! below the scope. actix-web matches in registration order: a literal segment
//! (`/label/{label}`, `/{id}/identity-providers`) goes before `/{id}/{action}`.
//! A path without the method is a 405 problem, an unknown path a 404 problem —
//! with `web::resource(..).get(..)`; `cfg.route(path, web::get()..)` puts the
//! method in the path's guard and answers 404 for other methods.
//!
//! ```ignore
//! pub fn configure(cfg: &mut ServiceConfig) {
//!     cfg.service(web::resource("/organizations").get(find).post(create))
//!         .service(web::resource("/organizations/{id}").get(get).delete(delete))
//!         .service(web::resource("/organizations/{id}/{action}").put(set_active));
//! }
//! ```
//!
//! **A handler** extracts, calls the resource's service function, answers; the
//! state is `Data<AppState>`:
//!
//! ```ignore
//! pub async fn get(s: Data<AppState>, caller: Caller, PathId(id): PathId<OrganizationId>)
//!     -> ApiResult<Json<Organization>> {
//!     Ok(Json(service::get(&s, &caller, id).await?))
//! }
//! pub async fn create(s: Data<AppState>, caller: Caller, Json(body): Json<CreateOrganization>)
//!     -> ApiResult<Created<Organization>> {
//!     Ok(Created(service::create(&s, &caller, body).await?))
//! }
//! ```
//!
//! - Answers: [`Json`] is both the body extractor and the 200 answer, [`Created`] the 201, `Paged::new(items, total, params)` a
//!   page; any other answer is an `actix_web::HttpResponse`.
//! - Errors: return [`ApiError`] (it is actix's `ResponseError`): problem+json
//!   with its status code and text; an internal error logs its
//!   cause and answers an opaque 500.
//! - Extractors and their problem bodies: [`Json`] (415 when not
//!   JSON, 413 over the limit, 400 naming the field), [`Query`] (400 naming the
//!   parameter; `page`/`size`/`sort` are left to [`PageParams`]), [`PathId`] (the
//!   `{id}` segment, 404 when it does not parse), [`Body`] (a raw body within
//!   the limit; `Body::json_or_default` for optional JSON bodies), [`Caller`] /
//!   [`MaybeCaller`] (the bearer token, 401 problem with `WWW-Authenticate`).
//!   Other path segments: `web::Path<String>`.
//! - `/{id}/{action}`: extract `IdAction(id, action): IdAction<Id, Activation>`
//!   (or an enum of your own with `FromStr`); an unknown id or action is a 404
//!   and the handler matches on the enum — no string switch in the service.
//! - Changes: `crate::work` — `let mut w = s.work.begin().await?`, the rows in
//!   `w.txn()`, timestamps `w.now()` (database precision), events
//!   `w.enqueue_event(org, &Event::..)?` (a variant of `idp_model::events::Event`),
//!   effects `w.after_commit(..)`, a state change
//!   `w.transition(update, id, "conflict detail")` (409 when its state does not
//!   hold), then `w.commit().await?` (commits, wakes the relay, runs the effects).
//!   No handler begins a transaction, enqueues or wakes the relay by hand.
//! - Paging: [`PageParams`] checks `page`/`size`/`sort`; `crate::query`
//!   sorts and pages a sea-orm select (`query::sorted`, `query::page`,
//!   `query::in_scope`, `query::Deleted`).
//! - Tests: the service still starts with `testing::spawn_service`; handlers and
//!   apps can be tested in memory with `actix_web::test` and
//!   `server::WebApp::new(configure, checks, limit).app()`.
//!
//! Handlers run on actix-web's worker threads (one single-threaded runtime each),
//! so their futures need not be `Send`; what the state holds must be `Send + Sync`
//! (it is shared by every worker).

pub mod answer;
pub mod extract;
pub mod server;

pub use actix_web::web::{Data, ServiceConfig};
pub use answer::{problem_response, Created};

pub use crate::auth::{Caller, MaybeCaller};
pub use crate::error::{ApiError, ApiResult};
pub use crate::extract::{Activation, Body, IdAction, Json, PathId, Query};
pub use crate::paging::{PageParams, Paged};
