//! What bearer tokens open, remembered in memory so that a request need not ask the store:
//! a token's meaning never changes (a live token opens one session, an identity token a
//! contact's conversations until it expires, an agent token an agent until it expires), so
//! only a sign-out takes one back, and it takes effect here at once.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use uuid::Uuid;

use crate::store::{AgentSignIn, IdentityGrant};

/// How many tokens of each kind are remembered; past that the memory starts afresh, and the
/// store answers until it fills again.
const REMEMBERED: usize = 100_000;

/// What a visitor's bearer token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitorBearer {
    /// A live visitor's one session, on its channel, whether or not it is over yet.
    Live { session_id: Uuid, channel: String },
    /// A verified visitor's conversations on one channel, until the grant expires.
    Verified(IdentityGrant),
}

/// The tokens met so far, by hash.
#[derive(Debug, Default)]
pub struct Bearers(Mutex<Remembered>);

#[derive(Debug, Default)]
struct Remembered {
    visitors: HashMap<String, VisitorBearer>,
    agents: HashMap<String, AgentSignIn>,
    /// Bumped by every sign-out, so that a lookup that began before one does not bring the
    /// token it took back into memory.
    sign_outs: u64,
}

/// Where a lookup in the store began: what it finds is remembered only when no sign-out
/// happened meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Lookup(u64);

impl Bearers {
    pub fn visitor(&self, token_hash: &str) -> Option<VisitorBearer> {
        self.lock().visitors.get(token_hash).cloned()
    }

    pub fn agent(&self, token_hash: &str) -> Option<AgentSignIn> {
        self.lock().agents.get(token_hash).cloned()
    }

    /// Marks the start of a lookup in the store.
    pub fn lookup(&self) -> Lookup {
        Lookup(self.lock().sign_outs)
    }

    pub fn remember_visitor(&self, token_hash: &str, bearer: VisitorBearer) {
        let mut remembered = self.lock();
        if remembered.visitors.len() >= REMEMBERED {
            remembered.visitors.clear();
        }
        remembered.visitors.insert(token_hash.to_owned(), bearer);
    }

    /// Remembers an agent's sign-in found by `lookup`, unless someone signed out since.
    pub fn remember_agent(&self, token_hash: &str, bearer: AgentSignIn, lookup: Lookup) {
        let mut remembered = self.lock();
        if remembered.sign_outs != lookup.0 {
            return;
        }
        if remembered.agents.len() >= REMEMBERED {
            remembered.agents.clear();
        }
        remembered.agents.insert(token_hash.to_owned(), bearer);
    }

    /// Forgets an agent's sign-in: the token opens nothing from now on.
    pub fn sign_out(&self, token_hash: &str) {
        let mut remembered = self.lock();
        remembered.agents.remove(token_hash);
        remembered.sign_outs += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        // Each change is one step, so a poisoned lock still holds consistent maps; it is
        // never held across an await.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use palaver_protocol::AgentRef;

    use super::*;

    fn ada() -> AgentSignIn {
        AgentSignIn {
            agent: AgentRef {
                id: Uuid::new_v4(),
                name: "ada".to_owned(),
            },
            expires_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_sign_in_found_before_a_sign_out_is_not_remembered_after_it() {
        let bearers = Bearers::default();
        let lookup = bearers.lookup();
        bearers.sign_out("h");
        bearers.remember_agent("h", ada(), lookup);
        assert_eq!(bearers.agent("h"), None);
    }

    #[test]
    fn a_signed_out_token_is_forgotten_at_once() {
        let bearers = Bearers::default();
        bearers.remember_agent("h", ada(), bearers.lookup());
        assert!(bearers.agent("h").is_some());
        bearers.sign_out("h");
        assert_eq!(bearers.agent("h"), None);
    }
}
