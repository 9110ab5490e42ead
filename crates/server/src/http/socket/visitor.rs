//! The visitor's stream: after `auth`, every message after the client's `after_seq`, then
//! each new message once and in order, agent typing, session changes and queue places. A
//! verified visitor's stream follows their open conversation from one to the next.

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    response::Response,
};
use futures_util::StreamExt;
use palaver_protocol::{
    Message, Sender, Session, SessionState,
    frames::{VisitorEvent, VisitorFrame},
    limits::PAGE_MAX,
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    chat::{
        access::{VisitorAccess, visitor_access},
        conversation::open_conversation,
        view::view,
    },
    http::socket::common::{
        Sink, TypingThrottle, admit, authenticate, next_frame, run_until_either_ends, send_json,
        small,
    },
    hub::{Event, Next, Subscription, Topic},
    state::AppState,
    store::{IdentityGrant, PageRequest, SessionRecord},
};

/// The visitor's live stream: messages, agent typing, session changes and queue position.
/// The first frame must be `{"type":"auth","token":…,"after_seq":…}`.
#[utoipa::path(get, path = "/api/v1/session/events", tag = "visitor",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    small(upgrade).on_upgrade(move |socket| visitor_socket(state, socket))
}

async fn visitor_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = authenticate(
        &mut sink,
        &mut stream,
        |frame| match frame {
            VisitorFrame::Auth {
                token,
                after_seq,
                session_id,
            } => Some((token, after_seq, session_id)),
            VisitorFrame::Typing { .. } => None,
        },
        |error| VisitorEvent::Error { error },
    )
    .await;
    let Some((token, after_seq, after_session)) = first else {
        return;
    };
    let checked = visitor_access(&state, &token).await;
    let Some(access) = admit(&mut sink, checked, |error| VisitorEvent::Error { error }).await
    else {
        return;
    };
    // The conversation the socket follows, which the visitor's typing is about; a verified
    // visitor's changes when an ended conversation is followed by a fresh one.
    let (following, watching) = watch::channel(None);
    let sending = match access {
        VisitorAccess::Live(record) => {
            following.send_replace(Some(record.id));
            tokio::spawn(visitor_send(state.clone(), sink, record, after_seq))
        }
        VisitorAccess::Verified(grant) => {
            let from = Position {
                session_id: after_session,
                after_seq,
            };
            tokio::spawn(verified_send(state.clone(), sink, grant, from, following))
        }
    };
    let state_for_stop = state.clone();
    let receiving = tokio::spawn(async move {
        let mut typing = TypingThrottle::default();
        loop {
            let frame = tokio::select! {
                frame = next_frame::<VisitorFrame>(&mut stream) => match frame {
                    Some(Ok(VisitorFrame::Typing { typing: now })) => Some(now),
                    Some(_) => None,
                    None => return,
                },
                () = typing.due() => None,
            };
            let session_id = *watching.borrow();
            if let (Some(typing), Some(session_id)) = (typing.pass(frame), session_id) {
                state.hub.publish(Event::Typing {
                    session_id,
                    sender: Sender::Visitor,
                    typing,
                });
            }
        }
    });
    run_until_either_ends(&state_for_stop, sending, receiving).await;
}

/// Sends the messages after `last_seq`, as many pages as there are; `None` when the
/// socket is gone or the store failed.
async fn catch_up(
    state: &AppState,
    sink: &mut Sink,
    session_id: Uuid,
    last_seq: &mut i64,
) -> Option<()> {
    loop {
        let page = PageRequest::After {
            after: *last_seq,
            limit: PAGE_MAX,
        };
        let page = match state.store.messages(session_id, page).await {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(?error, %session_id, "catching a socket up");
                return None;
            }
        };
        for message in page.messages {
            *last_seq = message.seq;
            if !send_json(sink, &VisitorEvent::Message { message }).await {
                return None;
            }
        }
        if !page.has_more {
            return Some(());
        }
    }
}

/// Sends a message the hub brought: at once when it is the next one, from the store when
/// some came before it that the socket has not sent, not at all when it was sent already.
async fn deliver(
    state: &AppState,
    sink: &mut Sink,
    message: &Message,
    last_seq: &mut i64,
) -> Option<()> {
    if message.seq <= *last_seq {
        return Some(());
    }
    if message.seq > *last_seq + 1 {
        return catch_up(state, sink, message.session_id, last_seq).await;
    }
    *last_seq = message.seq;
    let frame = VisitorEvent::Message {
        message: message.clone(),
    };
    send_json(sink, &frame).await.then_some(())
}

/// The session as it stands, read again after the socket fell behind; `None` when the
/// store failed.
async fn reread(state: &AppState, session_id: Uuid) -> Option<Session> {
    let read = async {
        match state.store.session(session_id).await? {
            Some(record) => view(state, &record).await.map(Some),
            None => Ok(None),
        }
    };
    match read.await {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(?error, %session_id, "re-reading a session after a lag");
            None
        }
    }
}

async fn visitor_send(state: AppState, mut sink: Sink, record: SessionRecord, after_seq: i64) {
    let session_id = record.id;
    // Subscribed before the session is read, so nothing published in between is missed.
    let mut events = state.hub.subscribe(Topic::Session(session_id));
    let session = match view(&state, &record).await {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(?error, %session_id, "reading a session for its socket");
            return;
        }
    };
    if !send_json(
        &mut sink,
        &VisitorEvent::Ready {
            session: Some(session),
        },
    )
    .await
    {
        return;
    }
    let mut last_seq = after_seq.max(0);
    if catch_up(&state, &mut sink, session_id, &mut last_seq)
        .await
        .is_none()
    {
        return;
    }
    loop {
        let event = match events.next().await {
            Next::Event(event) => event,
            Next::Behind => {
                // Fell behind the hub: the store has everything that was missed.
                if catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_none()
                {
                    return;
                }
                let Some(session) = reread(&state, session_id).await else {
                    return;
                };
                let over = session.state == SessionState::Ended;
                if !send_json(&mut sink, &VisitorEvent::Session { session }).await || over {
                    return;
                }
                continue;
            }
        };
        let sent = match &*event {
            Event::Message { message, .. } => deliver(&state, &mut sink, message, &mut last_seq)
                .await
                .is_some(),
            Event::Typing { sender, typing, .. } => {
                let frame = VisitorEvent::Typing {
                    sender: sender.clone(),
                    typing: *typing,
                };
                send_json(&mut sink, &frame).await
            }
            Event::Queue { queue, .. } => {
                send_json(&mut sink, &VisitorEvent::Queue { queue: *queue }).await
            }
            Event::Session {
                session: changed, ..
            } => {
                // Messages written before the change (a closing note) go first.
                let caught_up = catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_some();
                let session = changed.session.clone();
                let over = session.ended_at.is_some();
                if !caught_up
                    || !send_json(&mut sink, &VisitorEvent::Session { session }).await
                    || over
                {
                    return;
                }
                true
            }
            // Agents' events never reach a session's topic.
            Event::Agent(_) | Event::SignedOut { .. } => true,
        };
        if !sent {
            return;
        }
    }
}

/// Where a client's copy of a conversation ends: the last `seq` it holds, and of which
/// conversation (`None`: the open one).
struct Position {
    session_id: Option<Uuid>,
    after_seq: i64,
}

/// The next event of either subscription: the verified visitor's conversations, or the one
/// they follow now.
async fn next_of(conversations: &mut Subscription, followed: &mut Option<Subscription>) -> Next {
    match followed {
        Some(followed) => tokio::select! {
            next = conversations.next() => next,
            next = followed.next() => next,
        },
        None => conversations.next().await,
    }
}

/// A verified visitor's stream follows their open conversation on the channel, and stays
/// open when an agent ends it: the visitor's next message starts a fresh conversation,
/// announced with a `session` frame of a new id and then sent from its first message.
async fn verified_send(
    state: AppState,
    mut sink: Sink,
    grant: IdentityGrant,
    from: Position,
    following: watch::Sender<Option<Uuid>>,
) {
    // Subscribed before the conversation is read, so nothing published in between is missed.
    let mut conversations = state.hub.subscribe(Topic::Conversations {
        contact_id: grant.contact_id,
        channel: grant.channel.clone(),
    });
    let open = match open_conversation(&state, &grant).await {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(?error, contact = %grant.contact_id, "reading a conversation for its socket");
            return;
        }
    };
    let mut current = open.as_ref().map(|record| record.id);
    let mut followed = current.map(|id| state.hub.subscribe(Topic::Session(id)));
    let session = match &open {
        Some(record) => match view(&state, record).await {
            Ok(session) => Some(session),
            Err(error) => {
                tracing::error!(?error, "viewing a conversation for its socket");
                return;
            }
        },
        None => None,
    };
    if !send_json(&mut sink, &VisitorEvent::Ready { session }).await {
        return;
    }
    following.send_replace(current);
    let mut last_seq = if from.session_id.is_none() || from.session_id == current {
        from.after_seq.max(0)
    } else {
        0
    };
    // Whether the store may hold messages of the followed conversation that the client lacks.
    let mut behind = true;
    loop {
        if behind {
            if let Some(session_id) = current
                && catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_none()
            {
                return;
            }
            behind = false;
        }
        let changed = match next_of(&mut conversations, &mut followed).await {
            Next::Event(event) => match &*event {
                Event::Message { message, .. } if Some(message.session_id) == current => {
                    if deliver(&state, &mut sink, message, &mut last_seq)
                        .await
                        .is_none()
                    {
                        return;
                    }
                    None
                }
                Event::Session { session, .. } => Some(session.session.clone()),
                Event::Typing {
                    session_id,
                    sender,
                    typing,
                } if Some(*session_id) == current => {
                    let frame = VisitorEvent::Typing {
                        sender: sender.clone(),
                        typing: *typing,
                    };
                    if !send_json(&mut sink, &frame).await {
                        return;
                    }
                    None
                }
                _ => None,
            },
            Next::Behind => {
                behind = true;
                match reread_conversation(&state, &grant, current).await {
                    Some(changed) => changed,
                    None => return,
                }
            }
        };
        let Some(session) = changed else {
            continue;
        };
        if Some(session.id) == current {
            // Messages written before the change (a closing note) go first.
            if catch_up(&state, &mut sink, session.id, &mut last_seq)
                .await
                .is_none()
            {
                return;
            }
            if session.state == SessionState::Ended {
                current = None;
            }
        } else if session.state == SessionState::Ended {
            continue;
        } else {
            current = Some(session.id);
            last_seq = 0;
            behind = true;
        }
        if followed.as_ref().map(|followed| followed.topic())
            != current.map(Topic::Session).as_ref()
        {
            followed = current.map(|id| state.hub.subscribe(Topic::Session(id)));
        }
        following.send_replace(current);
        if !send_json(&mut sink, &VisitorEvent::Session { session }).await {
            return;
        }
    }
}

/// After falling behind the hub: the conversation to announce when it is not the one the
/// socket follows (a fresh one, or the followed one now over). `None` when the store failed.
async fn reread_conversation(
    state: &AppState,
    grant: &IdentityGrant,
    current: Option<Uuid>,
) -> Option<Option<Session>> {
    let read = async {
        let record = match open_conversation(state, grant).await? {
            Some(open) if Some(open.id) != current => Some(open),
            Some(_) => None,
            None => match current {
                Some(id) => state.store.session(id).await?,
                None => None,
            },
        };
        match record {
            Some(record) => view(state, &record).await.map(Some),
            None => Ok(None),
        }
    };
    match read.await {
        Ok(changed) => Some(changed),
        Err(error) => {
            tracing::error!(?error, "re-reading a conversation after a lag");
            None
        }
    }
}
