//! The token endpoint's memory of API-account clients: what one database read
//! answered about a `client_id` (the account and its organization's state), kept
//! for the rest of the clock second in which it was read.
//!
//! Why a second, and why that is safe: tokens carry `iat` in whole seconds, and a
//! revocation (an identity or organization deactivated or deleted, applied from
//! the revocation log in every process) refuses every token with `iat` at or
//! before the second it happened. A remembered answer is used only in the second it
//! was read, so a token issued from it has `iat` equal to that second. If the
//! account was deactivated after the read, the deactivation happened in that second
//! or later, so its revocation refuses such a token everywhere: the memory never
//! yields a token that a database read would have refused and that outlives the
//! revocation. In the next second the client is read again.
//!
//! Besides: an entry is not used once this process knows of a revocation of its
//! identity or organization from its second on, and the service forgets a client
//! as soon as it changes the account itself (activation, deactivation, deletion).
//! Unknown client ids are never remembered. The secret is checked against the
//! remembered hash on every request (secrets never change after creation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use idp_bearer::Verifier;
use idp_model::{IdentityId, OrganizationId};

use crate::store::{identity, organization_seen};

/// What the token endpoint needs to know about a client: its account and, when
/// this service has seen it, the account's organization.
pub type Client = Arc<(identity::Model, Option<organization_seen::Model>)>;

/// At most this many clients are remembered within one second; more are read
/// from the database every time (a bound on memory, never on correctness).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct ClientCache {
    inner: Mutex<Second>,
}

/// The clients read in one clock second.
#[derive(Default)]
struct Second {
    second: i64,
    clients: HashMap<String, Client>,
}

impl ClientCache {
    fn lock(&self) -> MutexGuard<'_, Second> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client as read earlier in second `now` (epoch seconds), unless a
    /// revocation of its identity or organization covers that second.
    pub fn get(&self, client_id: &str, now: i64, verifier: &Verifier) -> Option<Client> {
        let client = {
            let s = self.lock();
            if s.second != now {
                return None;
            }
            s.clients.get(client_id)?.clone()
        };
        let (account, _) = &*client;
        let revoked = verifier.is_revoked(
            IdentityId(account.id),
            OrganizationId(account.organization_id),
            now,
        );
        (!revoked).then_some(client)
    }

    /// Remembers what the database answered in second `now`.
    pub fn put(&self, client_id: &str, client: Client, now: i64) {
        let mut s = self.lock();
        if s.second != now {
            if now < s.second {
                // The clock went back: keep the newer second's entries out of use.
                return;
            }
            s.second = now;
            s.clients.clear();
        }
        if s.clients.len() < CAPACITY || s.clients.contains_key(client_id) {
            s.clients.insert(client_id.to_owned(), client);
        }
    }

    /// Forgets a client whose account this service just changed.
    pub fn forget(&self, client_id: Option<&str>) {
        if let Some(id) = client_id {
            self.lock().clients.remove(id);
        }
    }

    /// Forgets every client (an organization's state changed).
    pub fn forget_all(&self) {
        self.lock().clients.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idp_bearer::VerifierSettings;
    use sea_orm::prelude::Uuid;

    fn client(org: Uuid) -> Client {
        let now = time::OffsetDateTime::now_utc();
        Arc::new((
            identity::Model {
                id: Uuid::new_v4(),
                organization_id: org,
                kind: "ApiAccountIdentity".into(),
                name: "svc".into(),
                first_name: None,
                last_name: None,
                email: None,
                description: None,
                client_id: Some("c1".into()),
                secret_hash: Some("00".into()),
                active: true,
                created_at: now,
                updated_at: None,
                deleted_at: None,
                created_by: None,
                mfa_enrolled: false,
                mfa_reset_at: None,
                mfa_reset_by: None,
            },
            None,
        ))
    }

    fn verifier() -> Verifier {
        Verifier::new(VerifierSettings::default())
    }

    #[test]
    fn an_entry_serves_only_the_second_it_was_read_in() {
        let (cache, v) = (ClientCache::default(), verifier());
        let c = client(Uuid::new_v4());
        cache.put("c1", c.clone(), 100);
        assert!(Arc::ptr_eq(&cache.get("c1", 100, &v).unwrap(), &c));
        assert!(cache.get("other", 100, &v).is_none());
        assert!(cache.get("c1", 101, &v).is_none());
        // A put in a later second starts afresh; an older second's put is dropped.
        cache.put("c2", c.clone(), 101);
        assert!(cache.get("c1", 101, &v).is_none());
        cache.put("c1", c.clone(), 100);
        assert!(cache.get("c1", 100, &v).is_none());
        assert!(cache.get("c2", 101, &v).is_some());
    }

    #[test]
    fn revocations_of_the_identity_or_its_organization_from_that_second_on_bypass_it() {
        let (cache, v) = (ClientCache::default(), verifier());
        // Seconds of now: the verifier keeps no revocation older than the
        // longest token lifetime (it could only cover expired tokens).
        let t = time::OffsetDateTime::now_utc().unix_timestamp();
        let org = Uuid::new_v4();
        let c = client(org);
        let id = c.0.id;
        cache.put("c1", c.clone(), t);
        // A revocation of an earlier second says nothing about this read.
        v.revoke_identity(IdentityId(id), t - 1);
        assert!(cache.get("c1", t, &v).is_some());
        v.revoke_identity(IdentityId(id), t);
        assert!(cache.get("c1", t, &v).is_none());

        let other = client(org);
        cache.put("c2", other.clone(), t);
        assert!(cache.get("c2", t, &v).is_some());
        v.revoke_organization(OrganizationId(org), t);
        assert!(cache.get("c2", t, &v).is_none());
    }

    #[test]
    fn forgetting_and_the_capacity() {
        let (cache, v) = (ClientCache::default(), verifier());
        let c = client(Uuid::new_v4());
        cache.put("c1", c.clone(), 7);
        cache.forget(Some("c1"));
        assert!(cache.get("c1", 7, &v).is_none());
        cache.put("c1", c.clone(), 7);
        cache.forget_all();
        assert!(cache.get("c1", 7, &v).is_none());
        for i in 0..CAPACITY + 10 {
            cache.put(&format!("k{i}"), c.clone(), 8);
        }
        assert!(cache.get(&format!("k{}", CAPACITY - 1), 8, &v).is_some());
        assert!(cache.get(&format!("k{}", CAPACITY), 8, &v).is_none());
    }
}
