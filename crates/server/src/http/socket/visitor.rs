//! The visitor's stream: after `auth`, every message after the client's `after_seq`, then
//! each new message once and in order, agent typing, session changes and queue places. A
//! verified visitor's stream follows their open conversation from one to the next.

use std::sync::Arc;

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    response::Response,
};
use futures_util::StreamExt;
use palaver_protocol::{
    Sender, Session, SessionState,
    frames::{VisitorEvent, VisitorFrame},
    limits::PAGE_MAX,
};
use tokio::sync::{
    broadcast::{Receiver, error::RecvError},
    watch,
};
use uuid::Uuid;

use crate::{
    chat::{
        access::{VisitorAccess, visitor_access},
        conversation::open_conversation,
        view::view,
    },
    http::socket::common::{
        Sink, admit, authenticate, next_frame, run_until_either_ends, send_json,
    },
    hub::Event,
    state::AppState,
    store::{IdentityGrant, PageRequest, SessionRecord},
};

/// The visitor's live stream: messages, agent typing, session changes and queue position.
/// The first frame must be `{"type":"auth","token":…,"after_seq":…}`.
#[utoipa::path(get, path = "/api/v1/session/events", tag = "visitor",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| visitor_socket(state, socket))
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
    // Subscribe before reading the session, so nothing published in between is missed.
    let events = state.hub.subscribe();
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
            tokio::spawn(visitor_send(state.clone(), sink, events, record, after_seq))
        }
        VisitorAccess::Verified(grant) => {
            let from = Position {
                session_id: after_session,
                after_seq,
            };
            tokio::spawn(verified_send(
                state.clone(),
                sink,
                events,
                grant,
                from,
                following,
            ))
        }
    };
    let state_for_stop = state.clone();
    let receiving = tokio::spawn(async move {
        while let Some(frame) = next_frame::<VisitorFrame>(&mut stream).await {
            let session_id = *watching.borrow();
            if let (Ok(VisitorFrame::Typing { typing }), Some(session_id)) = (frame, session_id) {
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

async fn visitor_send(
    state: AppState,
    mut sink: Sink,
    mut events: Receiver<Arc<Event>>,
    record: SessionRecord,
    after_seq: i64,
) {
    let session_id = record.id;
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
        let event = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => {
                // Fell behind the hub: the store has everything that was missed.
                if catch_up(&state, &mut sink, session_id, &mut last_seq)
                    .await
                    .is_none()
                {
                    return;
                }
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if event.session_id() != Some(session_id) {
            continue;
        }
        let sent = match &*event {
            Event::Message(_) => catch_up(&state, &mut sink, session_id, &mut last_seq)
                .await
                .is_some(),
            Event::Typing { sender, typing, .. } => {
                *sender == Sender::Visitor
                    || send_json(
                        &mut sink,
                        &VisitorEvent::Typing {
                            sender: sender.clone(),
                            typing: *typing,
                        },
                    )
                    .await
            }
            Event::Queue { queue, .. } => {
                send_json(&mut sink, &VisitorEvent::Queue { queue: *queue }).await
            }
            Event::Session(changed) => {
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
            // Agents' events have no session, so they never pass the check above.
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

/// A verified visitor's stream follows their open conversation on the channel, and stays
/// open when an agent ends it: the visitor's next message starts a fresh conversation,
/// announced with a `session` frame of a new id and then sent from its first message.
async fn verified_send(
    state: AppState,
    mut sink: Sink,
    mut events: Receiver<Arc<Event>>,
    grant: IdentityGrant,
    from: Position,
    following: watch::Sender<Option<Uuid>>,
) {
    let open = match open_conversation(&state, &grant).await {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(?error, contact = %grant.contact_id, "reading a conversation for its socket");
            return;
        }
    };
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
    let mut current = open.map(|record| record.id);
    following.send_replace(current);
    let mut last_seq = if from.session_id.is_none() || from.session_id == current {
        from.after_seq.max(0)
    } else {
        0
    };
    // Whether the store may hold messages of the followed conversation that the client lacks;
    // the hub carries every session's events, and only this socket's are worth a query.
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
        let changed = match events.recv().await {
            Ok(event) => match &*event {
                Event::Message(message) if Some(message.session_id) == current => {
                    behind = true;
                    None
                }
                Event::Session(changed)
                    if changed.session.contact_id == grant.contact_id
                        && changed.session.channel == grant.channel =>
                {
                    Some(changed.session.clone())
                }
                Event::Typing {
                    session_id,
                    sender,
                    typing,
                } if Some(*session_id) == current && *sender != Sender::Visitor => {
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
            Err(RecvError::Lagged(_)) => {
                behind = true;
                match reread_conversation(&state, &grant, current).await {
                    Some(changed) => changed,
                    None => return,
                }
            }
            Err(RecvError::Closed) => return,
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
