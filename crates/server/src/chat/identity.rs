//! Persistent mode rule 1: a visitor proves who they are with the token their site signed,
//! and gets a bearer token for their conversations on the channel that lasts as long.

use palaver_protocol::Identified;

use crate::{
    chat::{
        conversation::open_conversation,
        error::{ChatError, FieldErrors, field},
        view::view,
    },
    config::Channel,
    domain::{Email, PersonName, PhoneNumber, UserId},
    identity::{Claims, Refusal},
    state::AppState,
    store::{IdentityGrant, VerifiedDetails},
    tokens::{IDENTITY_TOKEN_PREFIX, hash_token, new_token},
};

/// Exchanges a signed identity token for a bearer token and the open conversation, if any.
/// Nothing is written for a refused token.
pub async fn identify(
    state: &AppState,
    channel: &Channel,
    identity_token: &str,
) -> Result<Identified, ChatError> {
    let Some(key) = channel.identity.as_ref() else {
        return Err(ChatError::NotPersistent(
            "This chat is not for signed-in visitors; start it with your details.",
        ));
    };
    let now = state.clock.now();
    let claims = key
        .verify(identity_token, now)
        .map_err(|refusal| match refusal {
            Refusal::Expired => ChatError::IdentityExpired("The identity token has expired."),
            Refusal::Invalid(message) => ChatError::IdentityInvalid(message),
        })?;
    let expires_at = claims.expires_at().ok_or(ChatError::IdentityExpired(
        "The identity token has expired.",
    ))?;
    let details = verified_details(channel, &claims)?;
    let contact = state.store.upsert_verified_contact(&details, now).await?;
    let token = new_token(IDENTITY_TOKEN_PREFIX);
    let grant = IdentityGrant {
        contact_id: contact.id,
        channel: channel.id.clone(),
        expires_at,
    };
    state
        .store
        .create_identity_token(&hash_token(&token), &grant, now)
        .await?;
    let session = match open_conversation(state, &grant).await? {
        Some(record) => Some(view(state, &record).await?),
        None => None,
    };
    Ok(Identified {
        token,
        expires_at,
        contact,
        session,
    })
}

/// The signed claims, checked like anything a visitor types: a site's bug must not put
/// markup in front of agents. Without a name, the email or the user id stands in.
fn verified_details(channel: &Channel, claims: &Claims) -> Result<VerifiedDetails, ChatError> {
    let mut fields = FieldErrors::new();
    let sub = claims.sub.as_deref().unwrap_or_default();
    let user_id = field(&mut fields, "sub", UserId::parse(sub));
    let email = claims
        .email
        .as_deref()
        .filter(|email| !email.trim().is_empty())
        .and_then(|email| field(&mut fields, "email", Email::parse(email)));
    let phone = claims
        .phone
        .as_deref()
        .filter(|phone| !phone.trim().is_empty())
        .and_then(|phone| {
            field(
                &mut fields,
                "phone",
                PhoneNumber::parse(phone, channel.default_region.as_deref()),
            )
        });
    let shown_name = claims
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .or(claims.email.as_deref())
        .unwrap_or(sub);
    let name = field(&mut fields, "name", PersonName::parse(shown_name));
    match (user_id, name) {
        (Some(user_id), Some(name)) if fields.is_empty() => Ok(VerifiedDetails {
            realm: channel.id.clone(),
            user_id,
            name,
            email,
            phone,
        }),
        _ => Err(ChatError::Invalid {
            message: "The identity token's details need fixing by the site.".into(),
            fields,
        }),
    }
}
