//! Agents as people who sign in: creating them (from the command line), signing in with a
//! password for a limited time, and signing out, which closes the console stream opened
//! with that sign-in.

use anyhow::Context;
use palaver_protocol::{AgentRef, AgentToken};

use crate::{
    chat::error::ChatError,
    clock::Clock,
    hub::Event,
    state::AppState,
    store::Store,
    tokens::{
        AGENT_TOKEN_PREFIX, hash_password, hash_token, new_token, unknown_agent_hash,
        verify_password,
    },
};

/// How many sessions an agent holds at once unless told otherwise.
pub const DEFAULT_CAPACITY: u32 = 3;

/// Creates an agent who signs in with `password` and holds at most `capacity` sessions at
/// once; fails when the name is taken.
pub async fn add_agent(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    password: &str,
    capacity: u32,
) -> anyhow::Result<AgentRef> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "an agent needs a name");
    anyhow::ensure!(capacity >= 1, "an agent's capacity is at least 1");
    anyhow::ensure!(
        password.chars().count() >= 4,
        "a password needs at least 4 characters"
    );
    let hash = hash_password(password)?;
    let agent = store
        .create_agent(name, &hash, capacity, clock.now())
        .await?
        .with_context(|| format!("an agent named {name} exists already"))?;
    Ok(AgentRef {
        id: agent.id,
        name: agent.name,
    })
}

/// Signs an agent in with name and password; the token lasts the configured sign-in time.
pub async fn sign_in(
    state: &AppState,
    name: &str,
    password: &str,
) -> Result<AgentToken, ChatError> {
    let agent = state.store.agent_by_name(name.trim()).await?;
    let hash = agent.as_ref().map_or_else(
        || unknown_agent_hash().to_owned(),
        |agent| agent.password_hash.clone(),
    );
    let matches = check_password(state, password.to_owned(), hash).await?;
    let agent = agent.filter(|_| matches).ok_or(ChatError::Unauthorized(
        "The name or password is not right.",
    ))?;
    let token = new_token(AGENT_TOKEN_PREFIX);
    let ttl = chrono::Duration::from_std(state.agent_token_ttl)
        .map_err(|error| anyhow::anyhow!("agent token lifetime: {error}"))?;
    let expires_at = state.clock.now() + ttl;
    state
        .store
        .create_agent_token(&hash_token(&token), agent.id, expires_at)
        .await?;
    Ok(AgentToken {
        token,
        agent: AgentRef {
            id: agent.id,
            name: agent.name,
        },
        expires_at,
    })
}

/// Checks a password against its hash on a blocking thread, a few at a time: each check is
/// deliberately slow, and must neither stall the server's other work nor pile up.
async fn check_password(state: &AppState, password: String, hash: String) -> anyhow::Result<bool> {
    let _turn = state
        .password_checks
        .acquire()
        .await
        .context("waiting to check a password")?;
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .context("checking a password")
}

/// Signs out: the token stops working at once, and the console stream opened with it closes,
/// so routing offers the agent nothing more through it.
pub async fn sign_out(state: &AppState, token_hash: String) -> Result<(), ChatError> {
    state.store.delete_agent_token(&token_hash).await?;
    state.bearers.sign_out(&token_hash);
    state.hub.publish(Event::SignedOut { token_hash });
    Ok(())
}
