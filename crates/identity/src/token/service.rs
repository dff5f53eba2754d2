//! What the token endpoint does (its handler in `routes` calls [`issue`]): parse
//! the form, authenticate the client or verify the subject token, sign.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idp_model::token::{AccessClaims, IdentityType, OAuthError, OAuthErrorCode, TokenResponse};
use idp_model::{IdentityId, OrganizationId};

use super::store;
use crate::state::AppState;
use crate::store::identity;

const CLIENT_CREDENTIALS: &str = "client_credentials";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// RFC 8693 §2.2.1: what a token exchange issues.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What the token endpoint reads of a request.
pub struct TokenRequest<'a> {
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

/// A failed token request, with whether the client used HTTP Basic (then a 401
/// carries a `WWW-Authenticate: Basic` challenge with the charset, as RFC 6749
/// §5.2 asks).
#[derive(Debug)]
pub struct Failure {
    pub error: OAuthError,
    pub basic: bool,
}

fn fail(code: OAuthErrorCode, description: &str, basic: bool) -> Failure {
    Failure {
        error: OAuthError::new(code, description),
        basic,
    }
}

struct ClientAuth {
    client_id: String,
    secret: String,
    basic: bool,
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
fn decode_component(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn client_auth(
    authorization: Option<&str>,
    form: &[(String, String)],
) -> Result<ClientAuth, Failure> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = authorization.and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let form_secret = field("client_secret");
    match basic {
        Some(b64) => {
            if form_secret.is_some() {
                return Err(fail(
                    OAuthErrorCode::InvalidRequest,
                    "use one client authentication method, not both",
                    true,
                ));
            }
            let raw = STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    fail(
                        OAuthErrorCode::InvalidClient,
                        "client authentication failed",
                        true,
                    )
                })?;
            let (id, secret) = raw.split_once(':').ok_or_else(|| {
                fail(
                    OAuthErrorCode::InvalidClient,
                    "client authentication failed",
                    true,
                )
            })?;
            Ok(ClientAuth {
                client_id: decode_component(id),
                secret: decode_component(secret),
                basic: true,
            })
        }
        None => match (field("client_id"), form_secret) {
            (Some(client_id), Some(secret)) => Ok(ClientAuth {
                client_id,
                secret,
                basic: false,
            }),
            _ => Err(fail(
                OAuthErrorCode::InvalidClient,
                "client authentication is required (HTTP Basic or client_id and client_secret)",
                false,
            )),
        },
    }
}

/// A token request: the token, or the OAuth error to answer.
pub async fn issue(st: &AppState, req: TokenRequest<'_>) -> Result<TokenResponse, Failure> {
    let form_ct = req
        .content_type
        .map(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !form_ct {
        return Err(fail(
            OAuthErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
            false,
        ));
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(req.body).into_owned().collect();
    let mut seen = std::collections::HashSet::new();
    if let Some((dup, _)) = form.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(fail(
            OAuthErrorCode::InvalidRequest,
            &format!("parameter '{dup}' is repeated"),
            false,
        ));
    }
    let grant_type = form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str());
    match grant_type {
        None | Some("") => Err(fail(
            OAuthErrorCode::InvalidRequest,
            "grant_type is required",
            false,
        )),
        Some(CLIENT_CREDENTIALS) => client_credentials(st, req.authorization, &form).await,
        Some(TOKEN_EXCHANGE) => token_exchange(st, &form).await,
        Some(other) => Err(fail(
            OAuthErrorCode::UnsupportedGrantType,
            &format!("grant type '{other}' is not supported"),
            false,
        )),
    }
}

async fn client_credentials(
    st: &AppState,
    authorization: Option<&str>,
    form: &[(String, String)],
) -> Result<TokenResponse, Failure> {
    let auth = client_auth(authorization, form)?;
    let invalid = || {
        fail(
            OAuthErrorCode::InvalidClient,
            "client authentication failed",
            auth.basic,
        )
    };
    // The token's `iat` is this second; the client as read in it (crate::clients
    // says why remembering it for the second is safe).
    let now = st.clock.now().unix_timestamp();
    let client = match st.clients.get(&auth.client_id, now, &st.verifier) {
        Some(c) => c,
        None => {
            // One query: the account and its organization's status.
            let found = store::client_with_organization(&st.db, &auth.client_id)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "token endpoint lookup failed");
                    fail(
                        OAuthErrorCode::InvalidRequest,
                        "temporarily unable to authenticate",
                        auth.basic,
                    )
                })?;
            let Some(found) = found else {
                // Same work as a real comparison, so timing does not reveal unknown
                // clients.
                let _ = st.hasher.verify(&auth.secret, &"0".repeat(64));
                return Err(invalid());
            };
            let c = std::sync::Arc::new(found);
            st.clients.put(&auth.client_id, c.clone(), now);
            c
        }
    };
    let (row, org) = &*client;
    let secret_ok = row
        .secret_hash
        .as_deref()
        .map(|h| st.hasher.verify(&auth.secret, h))
        .unwrap_or(false);
    if !secret_ok
        || !row.active
        || row.deleted_at.is_some()
        || row.kind != IdentityType::ApiAccountIdentity.as_str()
    {
        tracing::info!(client_id = %auth.client_id, "client authentication refused");
        return Err(invalid());
    }
    // An identity of a deactivated or deleted organization gets no token.
    if org.as_ref().is_some_and(|o| !o.active || o.deleted) {
        tracing::info!(client_id = %auth.client_id, "client of an inactive organization refused");
        return Err(invalid());
    }
    issue_for(
        st,
        row,
        IdentityType::ApiAccountIdentity,
        now,
        auth.basic,
        None,
    )
}

/// Signs an access token for `row` (with `issued_token_type` when given: the
/// answer of a token exchange, RFC 8693 §2.2.1).
fn issue_for(
    st: &AppState,
    row: &identity::Model,
    kind: IdentityType,
    now: i64,
    basic: bool,
    issued_token_type: Option<&str>,
) -> Result<TokenResponse, Failure> {
    let lifetime = st.token.lifetime_secs;
    let claims = AccessClaims {
        iss: st.token.issuer(),
        sub: IdentityId(row.id),
        aud: st.token.audience.clone(),
        iat: now,
        nbf: None,
        exp: now + lifetime as i64,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        organization_id: OrganizationId(row.organization_id),
        identity_type: kind,
    };
    let token = st.keys.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "token signing failed");
        fail(
            OAuthErrorCode::InvalidRequest,
            "temporarily unable to issue tokens",
            basic,
        )
    })?;
    Ok(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: lifetime,
        issued_token_type: issued_token_type.map(str::to_string),
    })
}

/// RFC 8693: an ID token of an organization's OpenID provider for an access
/// token of the user identity mapped to its subject.
async fn token_exchange(
    st: &AppState,
    form: &[(String, String)],
) -> Result<TokenResponse, Failure> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(subject_token) = field("subject_token").filter(|t| !t.is_empty()) else {
        return Err(fail(
            OAuthErrorCode::InvalidRequest,
            "subject_token is required",
            false,
        ));
    };
    match field("subject_token_type") {
        None | Some(ID_TOKEN_TYPE) | Some(JWT_TOKEN_TYPE) => {}
        Some(other) => {
            return Err(fail(
                OAuthErrorCode::InvalidRequest,
                &format!("subject_token_type '{other}' is not supported; use {ID_TOKEN_TYPE}"),
                false,
            ))
        }
    }
    // The `nfToken` of authorize-initiate, when the client passes it, binds the
    // login to that organization.
    let bound = match field("nf_token").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match st.flow_tokens.verify(t, "login") {
            Ok(org) => Some(org),
            Err(e) => {
                tracing::info!(error = %e, "token exchange with a bad nfToken refused");
                return Err(fail(
                    OAuthErrorCode::InvalidGrant,
                    "the nf_token was not accepted",
                    false,
                ));
            }
        },
    };
    match crate::exchange::subject_identity(st, subject_token, bound).await {
        Ok(row) => issue_for(
            st,
            &row,
            IdentityType::UserIdentity,
            st.clock.now().unix_timestamp(),
            false,
            Some(ACCESS_TOKEN_TYPE),
        ),
        Err(reason) => {
            tracing::info!(%reason, "token exchange refused");
            Err(fail(
                OAuthErrorCode::InvalidGrant,
                "the subject token was not accepted",
                false,
            ))
        }
    }
}
