//! Which answers are stale. Requests and timers outlive what they were for: a reset, another
//! person signing in, a newer identity token, a session that ended. Each takes the [`Epoch`]
//! when it starts and, when it resumes, asks whether the [`Scope`] it belongs to has moved on
//! since; if so, it drops what it got.

/// A point in the chat's life, one counter per scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Epoch {
    visitor: u32,
    identity: u32,
    connection: u32,
}

/// What an answer or a timer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The person: forgetting them (`Palaver.reset()`, another person signing in) makes
    /// everything done for them stale.
    Visitor,
    /// One identity token: its trade for a bearer token, and the refresh and expiry timers
    /// of what it gave.
    Identity,
    /// One session token and its connection loop.
    Connection,
}

impl Epoch {
    /// Moves `scope` on. Forgetting the visitor moves every scope on, since identity and
    /// connection are theirs.
    pub fn advance(&mut self, scope: Scope) {
        let bump = |counter: &mut u32| *counter = counter.wrapping_add(1);
        match scope {
            Scope::Visitor => {
                bump(&mut self.visitor);
                bump(&mut self.identity);
                bump(&mut self.connection);
            }
            Scope::Identity => bump(&mut self.identity),
            Scope::Connection => bump(&mut self.connection),
        }
    }

    /// Whether something of `scope` begun at `then` still holds now.
    pub fn holds(&self, then: Epoch, scope: Scope) -> bool {
        match scope {
            Scope::Visitor => self.visitor == then.visitor,
            Scope::Identity => self.identity == then.identity,
            Scope::Connection => self.connection == then.connection,
        }
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test(unsupported = test)]
    fn a_new_connection_leaves_the_visitors_requests_and_identity_current() {
        let mut now = Epoch::default();
        let then = now;
        now.advance(Scope::Connection);
        assert!(!now.holds(then, Scope::Connection));
        assert!(now.holds(then, Scope::Visitor));
        assert!(now.holds(then, Scope::Identity));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_new_identity_token_leaves_the_connection_running() {
        let mut now = Epoch::default();
        let then = now;
        now.advance(Scope::Identity);
        assert!(!now.holds(then, Scope::Identity));
        assert!(now.holds(then, Scope::Connection));
        assert!(now.holds(then, Scope::Visitor));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn forgetting_the_visitor_makes_everything_stale() {
        let mut now = Epoch::default();
        let then = now;
        now.advance(Scope::Visitor);
        for scope in [Scope::Visitor, Scope::Identity, Scope::Connection] {
            assert!(!now.holds(then, scope), "{scope:?}");
        }
        assert!(now.holds(now, Scope::Visitor));
    }
}
