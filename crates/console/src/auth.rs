//! [`Auth`]: whether an agent is signed in. It keeps the sign-in (token, agent, expiry) in
//! localStorage, checks a stored one with the server on start, signs in and out, and ends a
//! sign-in that expired (its time passed, or the server refused the token) with a notice,
//! leaving everything else the agent had (the open conversation, their drafts) in place for
//! when they sign in again.

use leptos::prelude::*;
use palaver_client::fetch::retry_unreachable;
use palaver_protocol::{AgentLogin, AgentStatus, AgentToken};

use crate::{
    api::{Api, ApiFailure, Words},
    storage,
    tasks::Tasks,
    time,
};

const SIGN_IN: &str = "sign-in";

/// Where the console stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Checking a stored sign-in with the server.
    Checking,
    SignedOut,
    SignedIn(SignedIn),
}

/// A signed-in agent: their token and how they stood when it was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub token: AgentToken,
    pub status: AgentStatus,
}

/// Signing in and out. Provided once by the app; cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Auth {
    pub phase: RwSignal<Phase>,
    /// The last sign-in expired: the form says so.
    pub expired: RwSignal<bool>,
    /// Why the last attempt to sign in failed, in the server's words.
    pub error: RwSignal<Option<String>>,
    /// A sign-in is on its way.
    pub busy: RwSignal<bool>,
    /// The name of the agent whose sign-in expired, to fill in the form.
    pub last_name: RwSignal<String>,
    /// The server is unreachable while a stored sign-in is being checked.
    pub unreachable: RwSignal<bool>,
    inner: StoredValue<(Api, Tasks), LocalStorage>,
}

impl Auth {
    /// Starts from what this browser holds: a stored sign-in is checked with the server, one
    /// whose time has passed is dropped with the expiry notice.
    pub fn start(api: Api, tasks: Tasks) -> Self {
        let stored = storage::read::<AgentToken>(SIGN_IN);
        let auth = Self {
            phase: RwSignal::new(Phase::SignedOut),
            expired: RwSignal::new(false),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            last_name: RwSignal::new(String::new()),
            unreachable: RwSignal::new(false),
            inner: StoredValue::new_local((api, tasks)),
        };
        if let Some(token) = stored {
            auth.last_name.set(token.agent.name.clone());
            if token.expires_at <= time::now() {
                storage::delete(SIGN_IN);
                auth.expired.set(true);
            } else {
                auth.phase.set(Phase::Checking);
                auth.spawn(auth.check(token));
            }
        }
        auth
    }

    fn api(&self) -> Api {
        self.inner.with_value(|(api, _)| api.clone())
    }

    /// Runs a task for as long as the app lives.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.inner.with_value(|(_, tasks)| tasks.spawn(task));
    }

    /// Asks the server whether the stored token still works, retrying while it cannot be
    /// reached.
    async fn check(self, token: AgentToken) {
        let api = self.api().with_token(&token.token);
        let answer = retry_unreachable(|| api.me(), || self.unreachable.set(true)).await;
        self.unreachable.set(false);
        match answer {
            Ok(status) => self.phase.set(Phase::SignedIn(SignedIn { token, status })),
            Err(_) => {
                storage::delete(SIGN_IN);
                self.expired.set(true);
                self.phase.set(Phase::SignedOut);
            }
        }
    }

    /// Signs in with name and password.
    pub fn sign_in(&self, name: String, password: String) {
        let auth = *self;
        auth.busy.set(true);
        auth.error.set(None);
        self.spawn(async move {
            let api = auth.api();
            let login = AgentLogin { name, password };
            let result = match api.login(&login).await {
                Ok(token) => api
                    .with_token(&token.token)
                    .me()
                    .await
                    .map(|status| SignedIn { token, status }),
                Err(failure) => Err(failure),
            };
            auth.busy.set(false);
            match result {
                Ok(signed_in) => {
                    storage::write(SIGN_IN, &signed_in.token);
                    auth.expired.set(false);
                    auth.last_name.set(signed_in.token.agent.name.clone());
                    auth.phase.set(Phase::SignedIn(signed_in));
                }
                Err(failure) => auth.error.set(Some(failure.words("name"))),
            }
        });
    }

    /// Signs out: the server forgets the token, this browser too.
    pub fn sign_out(&self) {
        let Phase::SignedIn(signed_in) = self.phase.get_untracked() else {
            return;
        };
        let api = self.api().with_token(&signed_in.token.token);
        // The token is dropped here whatever the server answers: an unreachable server must
        // not keep the agent signed in on this screen.
        self.spawn(async move {
            let _ = api.logout().await;
        });
        storage::delete(SIGN_IN);
        self.expired.set(false);
        self.error.set(None);
        self.phase.set(Phase::SignedOut);
    }

    /// The sign-in is over without the agent asking (its time passed, or the server refused
    /// the token): back to the form, with the notice.
    pub fn expire(&self) {
        if !matches!(self.phase.get_untracked(), Phase::SignedIn(_)) {
            return;
        }
        storage::delete(SIGN_IN);
        self.expired.set(true);
        self.error.set(None);
        self.phase.set(Phase::SignedOut);
    }

    /// Ends the sign-in when a call answered that the token no longer works.
    pub fn check_failure(&self, failure: &ApiFailure) {
        if failure.is_unauthorized() {
            self.expire();
        }
    }
}
