//! Live mode rule 1: an anonymous visitor starts a chat by giving their details; the chat
//! joins the queue and routing offers it to an agent.

use palaver_protocol::{AgentSession, ChannelMode, SessionCreated, StartSession};

use crate::{
    chat::{
        assign::offer,
        error::{ChatError, FieldErrors, field},
        view::view,
    },
    config::Channel,
    domain::{Email, PersonName, PhoneNumber, Regarding},
    hub::Event,
    state::AppState,
    store::{ContactDetails, NewSession},
    tokens::{SESSION_TOKEN_PREFIX, hash_token, new_token},
};

/// Starts a live chat from the visitor's details: each field that needs fixing gets its own
/// message, and outside operating hours the visitor hears when agents are back.
pub async fn start_session(
    state: &AppState,
    channel: &Channel,
    details: StartSession,
) -> Result<SessionCreated, ChatError> {
    if channel.mode == ChannelMode::Persistent {
        return Err(ChatError::IdentityRequired);
    }
    let now = state.clock.now();
    let mut fields = FieldErrors::new();
    let name = field(&mut fields, "name", PersonName::parse(&details.name));
    let phone = field(
        &mut fields,
        "phone",
        PhoneNumber::parse(&details.phone, channel.default_region.as_deref()),
    );
    let email = match details.email.as_deref().map(str::trim) {
        None | Some("") if channel.require_email => field(
            &mut fields,
            "email",
            Err::<Email, _>("Please enter your email address.".to_owned()),
        ),
        None | Some("") => None,
        Some(email) => field(&mut fields, "email", Email::parse(email)),
    };
    let regarding = match details.regarding.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => field(&mut fields, "regarding", Regarding::parse(text)),
    };
    let (Some(name), Some(phone)) = (name, phone) else {
        return Err(ChatError::fields(fields));
    };
    if !fields.is_empty() {
        return Err(ChatError::fields(fields));
    }
    if let Some(hours) = &channel.operating_hours
        && !hours.is_open(now)
    {
        return Err(ChatError::OutsideOperatingHours(hours.next_open(now)));
    }

    let contact = state
        .store
        .upsert_contact(&ContactDetails { name, phone, email }, now)
        .await?;
    let token = new_token(SESSION_TOKEN_PREFIX);
    let record = state
        .store
        .create_session(NewSession {
            token_hash: Some(hash_token(&token)),
            contact_id: contact.id,
            channel: channel.id.clone(),
            mode: ChannelMode::Live,
            started_at: now,
            ends_at: channel.window_end(now),
            inactive_at: channel.inactive_at(now),
            regarding: regarding.map(|regarding| regarding.as_str().to_owned()),
        })
        .await?;
    state.hub.publish(Event::Session {
        session: AgentSession {
            session: view(state, &record).await?,
            to: contact,
        },
        change: record.change,
    });
    offer(state).await;
    // Routing may have given it to an agent already.
    let record = state.store.session(record.id).await?.unwrap_or(record);
    let session = view(state, &record).await?;
    Ok(SessionCreated { token, session })
}
