//! The store conformance suite, a test target of its own (`cargo test -p palaver-server
//! --test store`): what every [`Store`] implementation must do, written once against the
//! trait and run against each implementation through `conformance_suite!`. It starts no
//! server: it drives the store alone.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use palaver_protocol::{AgentRef, ChannelMode, Contact, EndReason, Message, Sender, SessionState};
use palaver_server::{
    domain::{ClientMsgId, Email, MessageBody, PersonName, PhoneNumber, UserId},
    store::{
        AgentFilter, AgentRecord, Appended, Author, ContactDetails, ContactStore, IdentityGrant,
        MessageStore, NewMessage, NewSession, PageRequest, SessionFilter, SessionRecord,
        SessionStore, Store, VerifiedDetails, sqlite::SqliteStore,
    },
};
use tempfile::TempDir;
use uuid::Uuid;

/// `conformance_suite!(module, fresh)` generates `mod module` with one test per check below.
/// `fresh` is evaluated anew in each test, inside that module; awaited, it yields
/// `anyhow::Result<(Arc<dyn Store>, guard)>`, where the guard (a temporary directory, a scratch
/// database) keeps the store's backing alive until the test ends. Each implementation adds
/// one invocation below.
macro_rules! conformance_suite {
    ($module:ident, $fresh:expr) => {
        conformance_suite!(@tests $module, $fresh,
            contacts_are_keyed_by_their_e164_number,
            an_email_given_once_is_kept_when_a_later_upsert_gives_none,
            a_session_round_trips_every_field,
            a_session_without_deadlines_round_trips,
            unknown_session_ids_and_tokens_read_as_none,
            each_session_numbers_its_messages_from_one,
            an_appended_message_round_trips_every_field,
            a_retried_append_returns_the_original_and_does_not_advance_the_sequence,
            the_same_client_id_from_another_author_is_another_message,
            the_same_client_id_in_another_session_is_another_message,
            messages_without_a_client_id_are_never_taken_for_retries,
            an_ended_session_takes_only_system_messages,
            a_retry_after_the_end_still_returns_the_original,
            an_append_to_an_unknown_session_returns_none,
            an_append_moves_the_inactivity_deadline,
            concurrent_appends_get_distinct_gap_free_sequence_numbers,
            concurrent_retries_of_one_message_store_it_once,
            the_latest_page_holds_the_newest_messages_in_ascending_order,
            a_page_after_a_sequence_number_holds_what_followed_it,
            a_page_before_a_sequence_number_holds_what_preceded_it,
            joining_assigns_the_agent_and_makes_a_queued_session_active,
            joining_again_as_the_same_agent_changes_nothing,
            a_second_agent_cannot_join_a_joined_session,
            nobody_can_join_an_ended_or_unknown_session,
            a_session_ends_once_with_its_reason_and_time,
            a_session_reads_as_ended_once_its_window_passes,
            a_session_reads_as_ended_once_its_inactivity_deadline_passes,
            a_recorded_end_outranks_deadlines_that_pass_later,
            due_sessions_are_exactly_the_open_ones_whose_deadline_passed,
            a_due_session_marked_ended_is_due_no_more,
            the_queue_is_oldest_first_and_holds_only_open_unheld_sessions_of_every_channel,
            sessions_queued_in_the_same_millisecond_keep_their_places,
            recent_waits_are_join_minus_queueing_newest_join_first,
            listing_by_state_reads_each_session_as_of_now,
            listing_filters_by_channel_and_agent,
            listing_searches_contact_names_and_numbers,
            search_ignores_the_case_of_names,
            search_treats_wildcard_characters_literally,
            listing_is_newest_first_with_contacts_and_honours_the_limit,
            a_contacts_sessions_are_listed_newest_first,
            regarding_can_be_set_and_cleared,
            an_agent_name_is_taken_once,
            agents_are_listed_by_name_with_a_capacity_that_can_change,
            an_agents_load_counts_the_active_sessions_they_hold_until_their_deadlines,
            the_agent_who_last_held_a_contacts_session_is_remembered_for_affinity,
            an_agent_token_is_valid_until_it_expires,
            a_deleted_agent_token_is_gone,
            verified_contacts_are_keyed_by_channel_and_user_id_apart_from_live_ones,
            one_conversation_per_contact_and_channel_is_open_even_when_two_start_at_once,
            a_fresh_conversation_can_start_once_the_last_is_ended,
            waiting_keeps_the_agent_and_reopening_queues_it_afresh_held_by_nobody,
            only_its_agent_sets_a_conversation_waiting_and_anyone_takes_it_up,
            an_identity_token_reads_back_with_what_it_opens_until_swept,
            every_session_change_takes_a_greater_change_number_and_changed_sessions_follow_them,
            inbox_pages_neither_skip_nor_repeat_sessions_started_in_the_same_millisecond,
            an_append_past_a_deadline_is_refused_as_if_the_session_had_ended,
            an_appended_message_is_what_a_page_read_returns,
        );
    };
    (@tests $module:ident, $fresh:expr, $($check:ident),+ $(,)?) => {
        mod $module {
            $(
                // Two worker threads, so that concurrent appends really race each other.
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() -> anyhow::Result<()> {
                    let (store, _guard) = $fresh.await?;
                    super::$check(store).await
                }
            )+
        }
    };
}

conformance_suite!(sqlite, super::fresh_sqlite());

/// A SQLite store in a new file, in a directory deleted when the returned guard drops.
async fn fresh_sqlite() -> anyhow::Result<(Arc<dyn Store>, TempDir)> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let url = format!("sqlite://{}", dir.path().join("palaver.db").display());
    let store = SqliteStore::connect(&url).await?;
    Ok((Arc::new(store), dir))
}

/// A day in minutes: a live session's window is `minute(0)..minute(DAY)`.
const DAY: i64 = 24 * 60;

/// `n` minutes after Monday 23 November 2026, 10:00 UTC, where every test's day begins.
fn minute(n: i64) -> DateTime<Utc> {
    let start: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("a valid timestamp");
    start + Duration::minutes(n)
}

fn details(name: &str, phone: &str, email: Option<&str>) -> anyhow::Result<ContactDetails> {
    Ok(ContactDetails {
        name: PersonName::parse(name).map_err(anyhow::Error::msg)?,
        phone: PhoneNumber::parse(phone, Some("GB")).map_err(anyhow::Error::msg)?,
        email: email
            .map(Email::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?,
    })
}

async fn visitor(store: &dyn Store, name: &str, phone: &str) -> anyhow::Result<Contact> {
    store
        .upsert_contact(&details(name, phone, None)?, minute(0))
        .await
}

/// A live session of `contact` on `channel` with a 24-hour window and no inactivity deadline.
fn live_session(contact: &Contact, channel: &str, started_at: DateTime<Utc>) -> NewSession {
    NewSession {
        token_hash: Some(format!("token-{}", Uuid::new_v4())),
        contact_id: contact.id,
        channel: channel.into(),
        mode: ChannelMode::Live,
        started_at,
        ends_at: Some(started_at + Duration::days(1)),
        inactive_at: None,
        regarding: None,
    }
}

/// Ada's live session on `support`, started at minute 0.
/// A persistent conversation of `contact` on `channel`: no token, no window.
fn conversation(contact: &Contact, channel: &str, started_at: DateTime<Utc>) -> NewSession {
    NewSession {
        token_hash: None,
        mode: ChannelMode::Persistent,
        ends_at: None,
        ..live_session(contact, channel, started_at)
    }
}

async fn ada_session(store: &dyn Store) -> anyhow::Result<SessionRecord> {
    let ada = visitor(store, "Ada Lovelace", "020 7946 0958").await?;
    store
        .create_session(live_session(&ada, "support", minute(0)))
        .await
}

async fn reread(store: &dyn Store, session_id: Uuid) -> anyhow::Result<SessionRecord> {
    store
        .session(session_id)
        .await?
        .context("a stored session is missing")
}

async fn agent(store: &dyn Store, name: &str) -> anyhow::Result<AgentRef> {
    let agent = store
        .create_agent(
            name,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            3,
            minute(0),
        )
        .await?
        .context("a new agent's name is taken")?;
    Ok(AgentRef {
        id: agent.id,
        name: agent.name,
    })
}

async fn join(
    store: &dyn Store,
    session_id: Uuid,
    agent: &AgentRef,
    at: DateTime<Utc>,
) -> anyhow::Result<SessionRecord> {
    store
        .assign_agent(session_id, agent.id, at)
        .await?
        .context("the agent could not join")
}

async fn end(
    store: &dyn Store,
    session_id: Uuid,
    reason: EndReason,
    at: DateTime<Utc>,
) -> anyhow::Result<SessionRecord> {
    store
        .end_session(session_id, reason, at)
        .await?
        .context("the session could not end")
}

/// A message written at minute 1 that leaves the inactivity deadline alone.
fn message(
    session_id: Uuid,
    author: Author,
    client_msg_id: Option<&str>,
    body: &str,
) -> anyhow::Result<NewMessage> {
    Ok(NewMessage {
        session_id,
        author,
        client_msg_id: client_msg_id
            .map(ClientMsgId::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        body: MessageBody::parse(body).map_err(anyhow::Error::msg)?,
        at: minute(1),
        inactive_at: None,
    })
}

/// Appends a message the store must accept.
async fn send(
    store: &dyn Store,
    session_id: Uuid,
    author: Author,
    client_msg_id: Option<&str>,
    body: &str,
) -> anyhow::Result<Appended> {
    store
        .append_message(message(session_id, author, client_msg_id, body)?)
        .await?
        .context("the store refused a message")
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|message| message.seq).collect()
}

fn ids(sessions: &[SessionRecord]) -> Vec<Uuid> {
    sessions.iter().map(|session| session.id).collect()
}

/// The seqs of one page and its `has_more`, checking that the page holds only its session.
async fn page(
    store: &dyn Store,
    session_id: Uuid,
    request: PageRequest,
) -> anyhow::Result<(Vec<i64>, bool)> {
    let page = store.messages(session_id, request).await?;
    assert!(
        page.messages
            .iter()
            .all(|message| message.session_id == session_id),
        "a page of {session_id} holds another session's messages"
    );
    Ok((seqs(&page.messages), page.has_more))
}

/// Ada's session with messages 1 to 5, interleaved with messages of her other session.
async fn five_messages(store: &dyn Store) -> anyhow::Result<Uuid> {
    let session = ada_session(store).await?;
    let ada = store
        .contact(session.contact_id)
        .await?
        .context("Ada is missing")?;
    let other = store
        .create_session(live_session(&ada, "support", minute(1)))
        .await?;
    for n in 1..=5 {
        let id = format!("m-{n}");
        send(store, session.id, Author::Visitor, Some(&id), "Hello").await?;
        send(store, other.id, Author::Visitor, Some(&id), "Hello").await?;
    }
    Ok(session.id)
}

/// Every session, up to 50.
fn all() -> SessionFilter {
    SessionFilter {
        limit: 50,
        ..SessionFilter::default()
    }
}

/// The ids `list_sessions` gives for `filter` as of `now`.
async fn listed(
    store: &dyn Store,
    filter: SessionFilter,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    let listed = store.list_sessions(&filter, now).await?;
    Ok(listed.into_iter().map(|(session, _)| session.id).collect())
}

async fn contacts_are_keyed_by_their_e164_number(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let first = store
        .upsert_contact(&details("Ada", "020 7946 0958", None)?, minute(0))
        .await?;
    assert_eq!(first.phone.as_deref(), Some("+442079460958"));
    let again = store
        .upsert_contact(
            &details("Ada Lovelace", "+44 (0)20 7946-0958", None)?,
            minute(5),
        )
        .await?;
    assert_eq!(again.id, first.id, "the same number is the same contact");
    assert_eq!(again.name, "Ada Lovelace", "the newest name wins");
    assert_eq!(store.contact(first.id).await?, Some(again));

    let other = store
        .upsert_contact(
            &details("Ada Lovelace", "+1 415 555 2671", None)?,
            minute(6),
        )
        .await?;
    assert_ne!(other.id, first.id, "another number is another contact");
    assert_eq!(store.contact(Uuid::new_v4()).await?, None);
    Ok(())
}

async fn an_email_given_once_is_kept_when_a_later_upsert_gives_none(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let first = store
        .upsert_contact(
            &details("Ada", "020 7946 0958", Some("ada@example.com"))?,
            minute(0),
        )
        .await?;
    assert_eq!(first.email.as_deref(), Some("ada@example.com"));
    let without = store
        .upsert_contact(&details("Ada", "020 7946 0958", None)?, minute(5))
        .await?;
    assert_eq!(without.email.as_deref(), Some("ada@example.com"));
    let changed = store
        .upsert_contact(
            &details("Ada", "020 7946 0958", Some("ada@lovelace.example"))?,
            minute(10),
        )
        .await?;
    assert_eq!(
        changed.email.as_deref(),
        Some("ada@lovelace.example"),
        "a new email replaces the old one"
    );
    assert_eq!(store.contact(first.id).await?, Some(changed));
    Ok(())
}

async fn a_session_round_trips_every_field(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let created = store
        .create_session(NewSession {
            token_hash: Some("9f86d081884c7d65".into()),
            contact_id: ada.id,
            channel: "strict".into(),
            mode: ChannelMode::Live,
            started_at: minute(0),
            ends_at: Some(minute(DAY)),
            inactive_at: Some(minute(5)),
            regarding: Some("Order #1042".into()),
        })
        .await?;
    let expected = SessionRecord {
        id: created.id,
        contact_id: ada.id,
        channel: "strict".into(),
        mode: ChannelMode::Live,
        state: SessionState::Queued,
        started_at: minute(0),
        ends_at: Some(minute(DAY)),
        ended_at: None,
        end_reason: None,
        inactive_at: Some(minute(5)),
        regarding: Some("Order #1042".into()),
        agent: None,
        joined_at: None,
        last_seq: 0,
        change: created.change,
    };
    assert_eq!(created, expected);
    assert_eq!(store.session(created.id).await?, Some(expected.clone()));
    assert_eq!(
        store.session_by_token("9f86d081884c7d65").await?,
        Some(expected)
    );
    Ok(())
}

async fn a_session_without_deadlines_round_trips(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let created = store
        .create_session(conversation(&ada, "members", minute(0)))
        .await?;
    assert_eq!(
        (created.mode, created.ends_at, created.inactive_at),
        (ChannelMode::Persistent, None, None)
    );
    assert_eq!(store.session(created.id).await?, Some(created));
    Ok(())
}

async fn unknown_session_ids_and_tokens_read_as_none(store: Arc<dyn Store>) -> anyhow::Result<()> {
    ada_session(&*store).await?;
    assert_eq!(store.session(Uuid::new_v4()).await?, None);
    assert_eq!(store.session_by_token("no-such-token").await?, None);
    Ok(())
}

async fn each_session_numbers_its_messages_from_one(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let first = ada_session(&*store).await?;
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let second = store
        .create_session(live_session(&ada, "support", minute(1)))
        .await?;
    let sends = [
        (first.id, "a-1"),
        (second.id, "b-1"),
        (first.id, "a-2"),
        (first.id, "a-3"),
        (second.id, "b-2"),
        (second.id, "b-3"),
    ];
    let mut numbered = Vec::new();
    for (session_id, client_msg_id) in sends {
        let appended = send(
            &*store,
            session_id,
            Author::Visitor,
            Some(client_msg_id),
            "Hello",
        )
        .await?;
        numbered.push(appended.message.seq);
    }
    assert_eq!(numbered, [1, 1, 2, 3, 2, 3]);
    assert_eq!(reread(&*store, first.id).await?.last_seq, 3);
    assert_eq!(reread(&*store, second.id).await?.last_seq, 3);
    Ok(())
}

async fn an_appended_message_round_trips_every_field(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let sent = [
        send(
            &*store,
            session.id,
            Author::Visitor,
            Some("v-1"),
            "Where is my order?",
        )
        .await?,
        send(
            &*store,
            session.id,
            Author::Agent(grace.clone()),
            Some("a-1"),
            "Let me check.",
        )
        .await?,
        send(&*store, session.id, Author::System, None, "Grace joined.").await?,
    ];
    assert!(sent.iter().all(|appended| appended.created));
    let sent = sent.map(|appended| appended.message);
    let expected = [
        Message {
            id: sent[0].id,
            session_id: session.id,
            seq: 1,
            client_msg_id: Some("v-1".into()),
            sender: Sender::Visitor,
            body: "Where is my order?".into(),
            created_at: minute(1),
        },
        Message {
            id: sent[1].id,
            session_id: session.id,
            seq: 2,
            client_msg_id: Some("a-1".into()),
            sender: Sender::Agent {
                id: grace.id,
                name: grace.name,
            },
            body: "Let me check.".into(),
            created_at: minute(1),
        },
        Message {
            id: sent[2].id,
            session_id: session.id,
            seq: 3,
            client_msg_id: None,
            sender: Sender::System,
            body: "Grace joined.".into(),
            created_at: minute(1),
        },
    ];
    assert_eq!(sent, expected);
    assert!(sent[0].id != sent[1].id && sent[1].id != sent[2].id && sent[0].id != sent[2].id);
    let stored = store
        .messages(session.id, PageRequest::Latest { limit: 10 })
        .await?;
    assert_eq!(stored.messages, expected);
    Ok(())
}

async fn a_retried_append_returns_the_original_and_does_not_advance_the_sequence(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let original = send(&*store, session.id, Author::Visitor, Some("m-1"), "Hello").await?;
    assert!(original.created);
    let retry = send(
        &*store,
        session.id,
        Author::Visitor,
        Some("m-1"),
        "Hello again",
    )
    .await?;
    assert!(!retry.created);
    assert_eq!(
        retry.message, original.message,
        "a retry answers with the original, body included"
    );
    assert_eq!(reread(&*store, session.id).await?.last_seq, 1);

    let next = send(&*store, session.id, Author::Visitor, Some("m-2"), "Hi?").await?;
    assert!(next.created);
    assert_eq!(next.message.seq, 2, "a retry leaves no gap");
    assert_eq!(
        page(&*store, session.id, PageRequest::Latest { limit: 10 }).await?,
        (vec![1, 2], false)
    );
    Ok(())
}

async fn the_same_client_id_from_another_author_is_another_message(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let alan = agent(&*store, "alan").await?;
    let authors = [
        Author::Visitor,
        Author::Agent(grace.clone()),
        Author::Agent(alan.clone()),
    ];
    let mut originals = Vec::new();
    for author in &authors {
        let appended = send(&*store, session.id, author.clone(), Some("m-1"), "Hello").await?;
        assert!(appended.created, "{author:?} was taken for a retry");
        originals.push(appended.message);
    }
    assert_eq!(seqs(&originals), [1, 2, 3]);
    for (author, original) in authors.into_iter().zip(&originals) {
        let retry = send(&*store, session.id, author.clone(), Some("m-1"), "Hello").await?;
        assert!(!retry.created);
        assert_eq!(
            &retry.message, original,
            "{author:?} retried another's message"
        );
    }
    assert_eq!(reread(&*store, session.id).await?.last_seq, 3);
    Ok(())
}

async fn the_same_client_id_in_another_session_is_another_message(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let first = ada_session(&*store).await?;
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let second = store
        .create_session(live_session(&ada, "support", minute(1)))
        .await?;
    let in_first = send(&*store, first.id, Author::Visitor, Some("m-1"), "Hello").await?;
    let in_second = send(&*store, second.id, Author::Visitor, Some("m-1"), "Hello").await?;
    assert!(in_first.created && in_second.created);
    assert_ne!(in_first.message.id, in_second.message.id);
    assert_eq!(in_second.message.session_id, second.id);
    Ok(())
}

async fn messages_without_a_client_id_are_never_taken_for_retries(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    for (author, seq) in [
        (Author::System, 1),
        (Author::System, 2),
        (Author::Visitor, 3),
        (Author::Visitor, 4),
    ] {
        let appended = send(&*store, session.id, author, None, "Hello").await?;
        assert!(appended.created);
        assert_eq!(appended.message.seq, seq);
    }
    Ok(())
}

async fn an_ended_session_takes_only_system_messages(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    send(&*store, session.id, Author::Visitor, Some("m-1"), "Bye").await?;
    end(&*store, session.id, EndReason::Visitor, minute(2)).await?;

    for author in [Author::Visitor, Author::Agent(grace.clone())] {
        let refused = store
            .append_message(message(session.id, author.clone(), Some("m-2"), "Hello?")?)
            .await?;
        assert!(refused.is_none(), "{author:?} wrote to an ended session");
    }
    let note = send(
        &*store,
        session.id,
        Author::System,
        None,
        "The visitor ended the chat.",
    )
    .await?;
    assert!(note.created);
    assert_eq!(note.message.seq, 2, "refused appends take no number");
    Ok(())
}

async fn a_retry_after_the_end_still_returns_the_original(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let original = send(&*store, session.id, Author::Visitor, Some("m-1"), "Bye").await?;
    end(&*store, session.id, EndReason::Visitor, minute(2)).await?;
    let retry = send(&*store, session.id, Author::Visitor, Some("m-1"), "Bye").await?;
    assert!(!retry.created);
    assert_eq!(retry.message, original.message);
    assert_eq!(reread(&*store, session.id).await?.last_seq, 1);
    Ok(())
}

async fn an_append_to_an_unknown_session_returns_none(store: Arc<dyn Store>) -> anyhow::Result<()> {
    ada_session(&*store).await?;
    for (author, client_msg_id) in [(Author::Visitor, Some("m-1")), (Author::System, None)] {
        let appended = store
            .append_message(message(
                Uuid::new_v4(),
                author.clone(),
                client_msg_id,
                "Hello",
            )?)
            .await?;
        assert!(appended.is_none(), "{author:?} wrote to no session");
    }
    Ok(())
}

async fn an_append_moves_the_inactivity_deadline(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let session = store
        .create_session(NewSession {
            inactive_at: Some(minute(5)),
            ..live_session(&ada, "strict", minute(0))
        })
        .await?;
    store
        .append_message(NewMessage {
            at: minute(3),
            inactive_at: Some(minute(8)),
            ..message(session.id, Author::Visitor, Some("m-1"), "Hello")?
        })
        .await?
        .context("the store refused a message")?;
    assert_eq!(
        reread(&*store, session.id).await?.inactive_at,
        Some(minute(8))
    );
    send(
        &*store,
        session.id,
        Author::System,
        None,
        "Queue position: 1",
    )
    .await?;
    assert_eq!(
        reread(&*store, session.id).await?.inactive_at,
        Some(minute(8)),
        "an append without a deadline leaves it as it was"
    );
    Ok(())
}

async fn concurrent_appends_get_distinct_gap_free_sequence_numbers(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let mut tasks = Vec::new();
    for n in 1..=20 {
        let new = message(session.id, Author::Visitor, Some(&format!("m-{n}")), "Hi")?;
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move { store.append_message(new).await }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        let appended = task.await??.context("a concurrent append was refused")?;
        assert!(appended.created);
        numbers.push(appended.message.seq);
    }
    numbers.sort_unstable();
    let one_to_twenty: Vec<i64> = (1..=20).collect();
    assert_eq!(numbers, one_to_twenty);
    assert_eq!(
        page(&*store, session.id, PageRequest::Latest { limit: 50 }).await?,
        (one_to_twenty, false)
    );
    assert_eq!(reread(&*store, session.id).await?.last_seq, 20);
    Ok(())
}

async fn concurrent_retries_of_one_message_store_it_once(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let new = message(session.id, Author::Visitor, Some("m-1"), "Hello")?;
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move { store.append_message(new).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await??.context("a concurrent retry was refused")?);
    }
    let created = answers.iter().filter(|appended| appended.created).count();
    assert_eq!(created, 1, "exactly one of the copies creates the message");
    assert!(
        answers
            .iter()
            .all(|appended| appended.message == answers[0].message),
        "every copy answers with the same message"
    );
    assert_eq!(
        page(&*store, session.id, PageRequest::Latest { limit: 50 }).await?,
        (vec![1], false)
    );
    assert_eq!(reread(&*store, session.id).await?.last_seq, 1);
    Ok(())
}

async fn the_latest_page_holds_the_newest_messages_in_ascending_order(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session_id = five_messages(&*store).await?;
    let latest = |limit| page(&*store, session_id, PageRequest::Latest { limit });
    assert_eq!(latest(2).await?, (vec![4, 5], true));
    assert_eq!(latest(5).await?, (vec![1, 2, 3, 4, 5], false));
    assert_eq!(latest(10).await?, (vec![1, 2, 3, 4, 5], false));

    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let empty = store
        .create_session(live_session(&ada, "support", minute(2)))
        .await?;
    assert_eq!(
        page(&*store, empty.id, PageRequest::Latest { limit: 10 }).await?,
        (vec![], false)
    );
    Ok(())
}

async fn a_page_after_a_sequence_number_holds_what_followed_it(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session_id = five_messages(&*store).await?;
    let after = |after| page(&*store, session_id, PageRequest::After { after, limit: 2 });
    assert_eq!(after(0).await?, (vec![1, 2], true));
    assert_eq!(after(2).await?, (vec![3, 4], true));
    assert_eq!(after(3).await?, (vec![4, 5], false));
    assert_eq!(after(4).await?, (vec![5], false));
    assert_eq!(after(5).await?, (vec![], false));
    Ok(())
}

async fn a_page_before_a_sequence_number_holds_what_preceded_it(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session_id = five_messages(&*store).await?;
    let before = |before| {
        page(
            &*store,
            session_id,
            PageRequest::Before { before, limit: 2 },
        )
    };
    assert_eq!(before(6).await?, (vec![4, 5], true));
    assert_eq!(before(4).await?, (vec![2, 3], true));
    assert_eq!(before(3).await?, (vec![1, 2], false));
    assert_eq!(before(2).await?, (vec![1], false));
    assert_eq!(before(1).await?, (vec![], false));
    Ok(())
}

async fn joining_assigns_the_agent_and_makes_a_queued_session_active(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let joined = join(&*store, session.id, &grace, minute(3)).await?;
    assert_eq!(joined.state, SessionState::Active);
    assert_eq!(joined.agent, Some(grace));
    assert_eq!(joined.joined_at, Some(minute(3)));
    assert_eq!(store.session(session.id).await?, Some(joined));
    Ok(())
}

async fn joining_again_as_the_same_agent_changes_nothing(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let first = join(&*store, session.id, &grace, minute(3)).await?;
    let again = join(&*store, session.id, &grace, minute(7)).await?;
    assert_eq!(again, first, "the first join time stays");
    Ok(())
}

async fn a_second_agent_cannot_join_a_joined_session(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let alan = agent(&*store, "alan").await?;
    let joined = join(&*store, session.id, &grace, minute(3)).await?;
    assert_eq!(
        store.assign_agent(session.id, alan.id, minute(4)).await?,
        None
    );
    assert_eq!(store.session(session.id).await?, Some(joined));
    Ok(())
}

async fn nobody_can_join_an_ended_or_unknown_session(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    let ended = end(&*store, session.id, EndReason::Visitor, minute(2)).await?;
    assert_eq!(
        store.assign_agent(session.id, grace.id, minute(3)).await?,
        None
    );
    assert_eq!(store.session(session.id).await?, Some(ended));
    assert_eq!(
        store
            .assign_agent(Uuid::new_v4(), grace.id, minute(3))
            .await?,
        None
    );
    Ok(())
}

async fn a_session_ends_once_with_its_reason_and_time(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let ended = end(&*store, session.id, EndReason::Visitor, minute(4)).await?;
    assert_eq!(
        (ended.state, ended.ended_at, ended.end_reason),
        (
            SessionState::Ended,
            Some(minute(4)),
            Some(EndReason::Visitor)
        )
    );
    assert_eq!(
        ended.closure(minute(5)),
        Some((minute(4), EndReason::Visitor))
    );
    assert_eq!(store.session(session.id).await?, Some(ended.clone()));

    assert_eq!(
        store
            .end_session(session.id, EndReason::Agent, minute(6))
            .await?,
        None,
        "the first end wins"
    );
    assert_eq!(store.session(session.id).await?, Some(ended));
    assert_eq!(
        store
            .end_session(Uuid::new_v4(), EndReason::Agent, minute(6))
            .await?,
        None
    );
    Ok(())
}

async fn a_session_reads_as_ended_once_its_window_passes(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let stored = reread(&*store, session.id).await?;
    assert_eq!(stored.closure(minute(DAY - 1)), None);
    assert_eq!(stored.state_at(minute(DAY - 1)), SessionState::Queued);
    assert_eq!(
        stored.closure(minute(DAY)),
        Some((minute(DAY), EndReason::Expired)),
        "the window's end is its first moment outside"
    );
    assert_eq!(stored.state_at(minute(DAY)), SessionState::Ended);
    Ok(())
}

async fn a_session_reads_as_ended_once_its_inactivity_deadline_passes(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let session = store
        .create_session(NewSession {
            inactive_at: Some(minute(5)),
            ..live_session(&ada, "strict", minute(0))
        })
        .await?;
    let stored = reread(&*store, session.id).await?;
    assert_eq!(stored.closure(minute(4)), None);
    assert_eq!(stored.state_at(minute(4)), SessionState::Queued);
    assert_eq!(stored.state_at(minute(5)), SessionState::Ended);
    assert_eq!(
        stored.closure(minute(DAY + 1)),
        Some((minute(5), EndReason::Inactivity)),
        "the earlier of two passed deadlines says when and why"
    );
    Ok(())
}

async fn a_recorded_end_outranks_deadlines_that_pass_later(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    end(&*store, session.id, EndReason::Agent, minute(30)).await?;
    let stored = reread(&*store, session.id).await?;
    assert_eq!(
        stored.closure(minute(DAY + 60)),
        Some((minute(30), EndReason::Agent))
    );
    Ok(())
}

async fn due_sessions_are_exactly_the_open_ones_whose_deadline_passed(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let now = minute(DAY + 10);
    let create = |new: NewSession| store.create_session(new);
    let window_passed = create(live_session(&ada, "support", minute(0))).await?;
    let window_ends_now = create(live_session(&ada, "support", minute(10))).await?;
    create(live_session(&ada, "support", minute(20))).await?;
    let inactive = create(NewSession {
        inactive_at: Some(minute(DAY + 5)),
        ..live_session(&ada, "strict", minute(30))
    })
    .await?;
    create(NewSession {
        inactive_at: Some(minute(DAY + 15)),
        ..live_session(&ada, "strict", minute(30))
    })
    .await?;
    let marked_ended = create(live_session(&ada, "support", minute(0))).await?;
    end(&*store, marked_ended.id, EndReason::Visitor, minute(60)).await?;
    create(conversation(&ada, "members", minute(0))).await?;

    let mut due = ids(&store.due_sessions(now).await?);
    due.sort_unstable();
    let mut expected = vec![window_passed.id, window_ends_now.id, inactive.id];
    expected.sort_unstable();
    assert_eq!(due, expected);
    Ok(())
}

/// What the sweeper does: find a session whose window passed and write down its end.
async fn a_due_session_marked_ended_is_due_no_more(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let now = minute(DAY + 1);
    assert_eq!(ids(&store.due_sessions(now).await?), [session.id]);
    let ended = end(&*store, session.id, EndReason::Expired, minute(DAY)).await?;
    assert_eq!(ended.closure(now), Some((minute(DAY), EndReason::Expired)));
    assert_eq!(store.due_sessions(now).await?, Vec::new());
    Ok(())
}

async fn the_queue_is_oldest_first_and_holds_only_open_unheld_sessions_of_every_channel(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = agent(&*store, "grace").await?;
    let now = minute(60);
    let create = |new: NewSession| store.create_session(new);
    let second = create(live_session(&ada, "support", minute(20))).await?;
    let first = create(live_session(&ada, "support", minute(10))).await?;
    let joined = create(live_session(&ada, "support", minute(5))).await?;
    join(&*store, joined.id, &grace, minute(15)).await?;
    let ended = create(live_session(&ada, "support", minute(6))).await?;
    end(&*store, ended.id, EndReason::Visitor, minute(7)).await?;
    create(NewSession {
        inactive_at: Some(minute(30)),
        ..live_session(&ada, "support", minute(8))
    })
    .await?;
    create(NewSession {
        ends_at: Some(now),
        ..live_session(&ada, "support", minute(9))
    })
    .await?;
    let office = create(live_session(&ada, "office", minute(1))).await?;

    let queue = store.queued_sessions(now).await?;
    assert_eq!(ids(&queue), [office.id, first.id, second.id]);
    for (place, queued) in (1..).zip(&queue) {
        assert_eq!(store.queue_place(queued.id, now).await?, Some(place));
    }
    for outside in [joined.id, ended.id, Uuid::new_v4()] {
        assert_eq!(store.queue_place(outside, now).await?, None);
    }
    Ok(())
}

async fn sessions_queued_in_the_same_millisecond_keep_their_places(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(
            store
                .create_session(live_session(&ada, "support", minute(1)))
                .await?,
        );
    }
    let queue = store.queued_sessions(minute(2)).await?;
    assert_eq!(ids(&queue), ids(&created), "stored order among equals");
    for (place, queued) in (1..).zip(&created) {
        assert_eq!(store.queue_place(queued.id, minute(2)).await?, Some(place));
    }
    Ok(())
}

async fn recent_waits_are_join_minus_queueing_newest_join_first(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = agent(&*store, "grace").await?;
    let create = |new: NewSession| store.create_session(new);
    for (started, joined) in [(0, 3), (1, 10), (2, 6)] {
        let session = create(live_session(&ada, "support", minute(started))).await?;
        join(&*store, session.id, &grace, minute(joined)).await?;
    }
    create(live_session(&ada, "support", minute(3))).await?;
    let elsewhere = create(live_session(&ada, "office", minute(0))).await?;
    join(&*store, elsewhere.id, &grace, minute(20)).await?;

    let waits = |limit| store.recent_waits("support", limit);
    assert_eq!(
        waits(10).await?,
        [
            Duration::minutes(9),
            Duration::minutes(4),
            Duration::minutes(3)
        ]
    );
    assert_eq!(
        waits(2).await?,
        [Duration::minutes(9), Duration::minutes(4)]
    );
    assert_eq!(store.recent_waits("members", 10).await?, Vec::new());
    Ok(())
}

async fn listing_by_state_reads_each_session_as_of_now(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = agent(&*store, "grace").await?;
    let create = |new: NewSession| store.create_session(new);
    let queued = create(live_session(&ada, "support", minute(0))).await?;
    let active = create(live_session(&ada, "support", minute(10))).await?;
    join(&*store, active.id, &grace, minute(11)).await?;
    let window_passed = create(NewSession {
        ends_at: Some(minute(60)),
        ..live_session(&ada, "support", minute(20))
    })
    .await?;
    let inactive = create(NewSession {
        inactive_at: Some(minute(40)),
        ..live_session(&ada, "strict", minute(30))
    })
    .await?;
    let ended = create(live_session(&ada, "support", minute(40))).await?;
    end(&*store, ended.id, EndReason::Visitor, minute(41)).await?;
    let joined_then_expired = create(NewSession {
        ends_at: Some(minute(80)),
        ..live_session(&ada, "support", minute(50))
    })
    .await?;
    join(&*store, joined_then_expired.id, &grace, minute(51)).await?;

    let in_state = |state, now| {
        let filter = SessionFilter {
            state: Some(state),
            ..all()
        };
        listed(&*store, filter, now)
    };
    let now = minute(90);
    assert_eq!(in_state(SessionState::Queued, now).await?, [queued.id]);
    assert_eq!(in_state(SessionState::Active, now).await?, [active.id]);
    assert_eq!(
        in_state(SessionState::Ended, now).await?,
        [
            joined_then_expired.id,
            ended.id,
            inactive.id,
            window_passed.id
        ]
    );
    assert_eq!(
        in_state(SessionState::Queued, minute(35)).await?,
        [inactive.id, window_passed.id, queued.id],
        "before their deadlines the same sessions were still queued"
    );
    Ok(())
}

async fn listing_filters_by_channel_and_agent(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = agent(&*store, "grace").await?;
    let alan = agent(&*store, "alan").await?;
    let create = |new: NewSession| store.create_session(new);
    let unassigned = create(live_session(&ada, "support", minute(0))).await?;
    let graces = create(live_session(&ada, "support", minute(1))).await?;
    join(&*store, graces.id, &grace, minute(2)).await?;
    let alans = create(live_session(&ada, "support", minute(2))).await?;
    join(&*store, alans.id, &alan, minute(3)).await?;
    let office = create(live_session(&ada, "office", minute(3))).await?;

    let now = minute(10);
    let on = |channel: &str| SessionFilter {
        channel: Some(channel.into()),
        ..all()
    };
    let by = |agent| SessionFilter {
        agent: Some(agent),
        ..all()
    };
    assert_eq!(
        listed(&*store, on("support"), now).await?,
        [alans.id, graces.id, unassigned.id]
    );
    assert_eq!(listed(&*store, on("office"), now).await?, [office.id]);
    assert_eq!(
        listed(&*store, on("members"), now).await?,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        listed(&*store, by(AgentFilter::Unassigned), now).await?,
        [office.id, unassigned.id]
    );
    assert_eq!(
        listed(&*store, by(AgentFilter::Agent(grace.id)), now).await?,
        [graces.id]
    );
    assert_eq!(
        listed(&*store, by(AgentFilter::Agent(Uuid::new_v4())), now).await?,
        Vec::<Uuid>::new()
    );
    let unassigned_support = SessionFilter {
        agent: Some(AgentFilter::Unassigned),
        ..on("support")
    };
    assert_eq!(
        listed(&*store, unassigned_support, now).await?,
        [unassigned.id]
    );
    Ok(())
}

/// The ids of sessions whose contact matches `search`, as of minute 10.
async fn found(store: &dyn Store, search: &str) -> anyhow::Result<Vec<Uuid>> {
    let filter = SessionFilter {
        search: Some(search.into()),
        ..all()
    };
    listed(store, filter, minute(10)).await
}

/// One session for each contact, named and numbered as given, started a minute apart.
async fn sessions_of(store: &dyn Store, contacts: &[(&str, &str)]) -> anyhow::Result<Vec<Uuid>> {
    let mut sessions = Vec::new();
    for (n, (name, phone)) in (0..).zip(contacts) {
        let contact = visitor(store, name, phone).await?;
        let session = store
            .create_session(live_session(&contact, "support", minute(n)))
            .await?;
        sessions.push(session.id);
    }
    Ok(sessions)
}

async fn listing_searches_contact_names_and_numbers(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let sessions = sessions_of(
        &*store,
        &[
            ("Ada Lovelace", "020 7946 0958"),
            ("Grace Hopper", "+1 415 555 2671"),
        ],
    )
    .await?;
    let (ada, grace) = (sessions[0], sessions[1]);
    assert_eq!(found(&*store, "Lovelace").await?, [ada]);
    assert_eq!(found(&*store, "ace Hop").await?, [grace]);
    assert_eq!(found(&*store, "7946").await?, [ada]);
    assert_eq!(found(&*store, "+1415").await?, [grace]);
    assert_eq!(found(&*store, "ce").await?, [grace, ada]);
    assert_eq!(found(&*store, "Turing").await?, Vec::<Uuid>::new());
    Ok(())
}

async fn search_ignores_the_case_of_names(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let sessions = sessions_of(&*store, &[("Ada Lovelace", "020 7946 0958")]).await?;
    assert_eq!(found(&*store, "ada lovelace").await?, sessions);
    assert_eq!(found(&*store, "LOVE").await?, sessions);
    Ok(())
}

async fn search_treats_wildcard_characters_literally(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let sessions = sessions_of(
        &*store,
        &[
            ("Max_Power", "020 7946 0958"),
            ("MaxiPower", "020 7946 0959"),
            ("Ada 100% Real", "020 7946 0960"),
            ("Ada 100 Real", "020 7946 0961"),
            (r"Back\slash", "020 7946 0962"),
            ("Backslash", "020 7946 0963"),
        ],
    )
    .await?;
    assert_eq!(found(&*store, "x_P").await?, [sessions[0]]);
    assert_eq!(found(&*store, "100% R").await?, [sessions[2]]);
    assert_eq!(found(&*store, r"k\s").await?, [sessions[4]]);
    Ok(())
}

async fn listing_is_newest_first_with_contacts_and_honours_the_limit(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = visitor(&*store, "Grace Hopper", "+1 415 555 2671").await?;
    let create = |new: NewSession| store.create_session(new);
    let oldest = create(live_session(&ada, "support", minute(0))).await?;
    let middle = create(live_session(&grace, "office", minute(5))).await?;
    let newest = create(live_session(&ada, "support", minute(10))).await?;

    let now = minute(20);
    assert_eq!(
        store.list_sessions(&all(), now).await?,
        [
            (newest.clone(), ada.clone()),
            (middle.clone(), grace),
            (oldest, ada)
        ]
    );
    let two = SessionFilter { limit: 2, ..all() };
    assert_eq!(listed(&*store, two, now).await?, [newest.id, middle.id]);
    Ok(())
}

async fn a_contacts_sessions_are_listed_newest_first(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = visitor(&*store, "Grace Hopper", "+1 415 555 2671").await?;
    let create = |new: NewSession| store.create_session(new);
    let first = create(live_session(&ada, "support", minute(0))).await?;
    create(live_session(&grace, "support", minute(1))).await?;
    let last = create(live_session(&ada, "support", minute(DAY + 1))).await?;
    let middle = create(live_session(&ada, "office", minute(30))).await?;
    let middle = end(&*store, middle.id, EndReason::Agent, minute(40)).await?;

    assert_eq!(store.contact_sessions(ada.id).await?, [last, middle, first]);
    assert_eq!(store.contact_sessions(Uuid::new_v4()).await?, Vec::new());
    Ok(())
}

async fn regarding_can_be_set_and_cleared(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let set = store
        .set_regarding(session.id, Some("Order #1042"))
        .await?
        .context("setting regarding")?;
    assert_eq!(set.regarding.as_deref(), Some("Order #1042"));
    assert_eq!(reread(&*store, session.id).await?, set);

    let cleared = store
        .set_regarding(session.id, None)
        .await?
        .context("clearing regarding")?;
    assert_eq!(cleared.regarding, None);
    assert_eq!(reread(&*store, session.id).await?, cleared);
    assert_eq!(
        store
            .set_regarding(Uuid::new_v4(), Some("Order #1042"))
            .await?,
        None
    );
    Ok(())
}

async fn an_agent_name_is_taken_once(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let grace = store
        .create_agent("grace", "hash-1", 2, minute(0))
        .await?
        .context("creating grace")?;
    assert_eq!(
        (
            grace.name.as_str(),
            grace.password_hash.as_str(),
            grace.capacity
        ),
        ("grace", "hash-1", 2)
    );
    assert!(
        store
            .create_agent("grace", "hash-2", 5, minute(1))
            .await?
            .is_none(),
        "a taken name gives no second agent"
    );
    let found = store
        .agent_by_name("grace")
        .await?
        .context("grace is missing")?;
    assert_eq!(
        (found.id, found.name.as_str(), found.password_hash.as_str()),
        (grace.id, "grace", "hash-1")
    );
    assert!(store.agent_by_name("alan").await?.is_none());
    Ok(())
}

async fn agents_are_listed_by_name_with_a_capacity_that_can_change(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    store.create_agent("zoe", "hash", 1, minute(0)).await?;
    store.create_agent("ada", "hash", 4, minute(0)).await?;
    let listed = |agents: Vec<AgentRecord>| -> Vec<(String, u32)> {
        agents
            .into_iter()
            .map(|agent| (agent.name, agent.capacity))
            .collect()
    };
    assert_eq!(
        listed(store.agents().await?),
        [("ada".to_owned(), 4), ("zoe".to_owned(), 1)]
    );
    let zoe = store
        .set_agent_capacity("zoe", 6)
        .await?
        .context("zoe exists")?;
    assert_eq!(zoe.capacity, 6);
    assert_eq!(
        store
            .agent_by_name("zoe")
            .await?
            .map(|agent| agent.capacity),
        Some(6)
    );
    assert!(store.set_agent_capacity("nobody", 2).await?.is_none());
    Ok(())
}

async fn an_agents_load_counts_the_active_sessions_they_hold_until_their_deadlines(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = member(&*store).await?;
    let (alan, zoe) = (agent(&*store, "alan").await?, agent(&*store, "zoe").await?);
    let create = |new: NewSession| store.create_session(new);
    let held = create(live_session(&ada, "support", minute(0))).await?;
    join(&*store, held.id, &alan, minute(1)).await?;
    let short = create(NewSession {
        inactive_at: Some(minute(30)),
        ..live_session(&ada, "support", minute(0))
    })
    .await?;
    join(&*store, short.id, &alan, minute(1)).await?;
    let ended = create(live_session(&ada, "support", minute(0))).await?;
    join(&*store, ended.id, &alan, minute(1)).await?;
    end(&*store, ended.id, EndReason::Agent, minute(2)).await?;
    let (waiting, _) = store
        .start_conversation(conversation(&grace, "members", minute(0)))
        .await?;
    join(&*store, waiting.id, &alan, minute(1)).await?;
    store
        .set_waiting(waiting.id, alan.id)
        .await?
        .context("waits")?;
    create(live_session(&ada, "support", minute(0))).await?;
    let zoes = create(live_session(&ada, "office", minute(0))).await?;
    join(&*store, zoes.id, &zoe, minute(1)).await?;

    let loads = store.agent_loads(minute(10)).await?;
    assert_eq!(
        (loads.get(&alan.id), loads.get(&zoe.id), loads.len()),
        (Some(&2), Some(&1), 2),
        "alan holds two active sessions: not the ended, waiting or unheld ones"
    );
    let later = store.agent_loads(minute(30)).await?;
    assert_eq!(
        later.get(&alan.id),
        Some(&1),
        "a session past its inactivity deadline is held no more"
    );
    Ok(())
}

async fn the_agent_who_last_held_a_contacts_session_is_remembered_for_affinity(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let (alan, zoe) = (agent(&*store, "alan").await?, agent(&*store, "zoe").await?);
    assert_eq!(store.affinity_agent(grace.id, "members").await?, None);
    let (first, _) = store
        .start_conversation(conversation(&grace, "members", minute(0)))
        .await?;
    join(&*store, first.id, &alan, minute(1)).await?;
    end(&*store, first.id, EndReason::Agent, minute(2)).await?;
    let (second, _) = store
        .start_conversation(conversation(&grace, "members", minute(3)))
        .await?;
    assert_eq!(
        store.affinity_agent(grace.id, "members").await?,
        Some(alan.id),
        "a fresh conversation remembers who held the last one"
    );
    join(&*store, second.id, &zoe, minute(4)).await?;
    store
        .set_waiting(second.id, zoe.id)
        .await?
        .context("waits")?;
    store
        .reopen(second.id, minute(5))
        .await?
        .context("reopens")?;
    assert_eq!(
        store.affinity_agent(grace.id, "members").await?,
        Some(zoe.id),
        "brought back to the queue, it still remembers its agent"
    );
    assert_eq!(store.affinity_agent(grace.id, "partners").await?, None);
    Ok(())
}

async fn an_agent_token_is_valid_until_it_expires(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let grace = agent(&*store, "grace").await?;
    let alan = agent(&*store, "alan").await?;
    store
        .create_agent_token("token-grace", grace.id, minute(60))
        .await?;
    store
        .create_agent_token("token-alan", alan.id, minute(60))
        .await?;

    let holder = async |token, now| {
        let sign_in = store.agent_by_token(token, now).await?;
        anyhow::Ok(sign_in.map(|sign_in| sign_in.agent))
    };
    assert_eq!(holder("token-grace", minute(0)).await?, Some(grace.clone()));
    assert_eq!(holder("token-grace", minute(59)).await?, Some(grace));
    assert_eq!(holder("token-alan", minute(59)).await?, Some(alan));
    let sign_in = store.agent_by_token("token-alan", minute(0)).await?;
    assert_eq!(
        sign_in.map(|sign_in| sign_in.expires_at),
        Some(minute(60)),
        "with its expiry"
    );
    assert_eq!(
        holder("token-grace", minute(60)).await?,
        None,
        "a token is over at its expiry time"
    );
    assert_eq!(holder("token-unknown", minute(0)).await?, None);
    Ok(())
}

async fn a_deleted_agent_token_is_gone(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let grace = agent(&*store, "grace").await?;
    store
        .create_agent_token("token-laptop", grace.id, minute(60))
        .await?;
    store
        .create_agent_token("token-phone", grace.id, minute(60))
        .await?;
    store.delete_agent_token("token-laptop").await?;
    assert_eq!(store.agent_by_token("token-laptop", minute(1)).await?, None);
    assert_eq!(
        store
            .agent_by_token("token-phone", minute(1))
            .await?
            .map(|sign_in| sign_in.agent),
        Some(grace),
        "other tokens of the same agent stay"
    );
    store.delete_agent_token("token-unknown").await?;
    Ok(())
}

/// A persistent channel's user, as its site signed them.
fn verified(
    realm: &str,
    user_id: &str,
    name: &str,
    phone: Option<&str>,
) -> anyhow::Result<VerifiedDetails> {
    Ok(VerifiedDetails {
        realm: realm.into(),
        user_id: UserId::parse(user_id).map_err(anyhow::Error::msg)?,
        name: PersonName::parse(name).map_err(anyhow::Error::msg)?,
        email: None,
        phone: phone
            .map(|phone| PhoneNumber::parse(phone, Some("GB")))
            .transpose()
            .map_err(anyhow::Error::msg)?,
    })
}

/// Grace, signed in on `members`.
async fn member(store: &dyn Store) -> anyhow::Result<Contact> {
    store
        .upsert_verified_contact(&verified("members", "u1", "Grace", None)?, minute(0))
        .await
}

async fn verified_contacts_are_keyed_by_channel_and_user_id_apart_from_live_ones(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = store
        .upsert_verified_contact(
            &verified("members", "u1", "Grace", Some("020 7946 0958"))?,
            minute(0),
        )
        .await?;
    assert_eq!(
        (grace.user_id.as_deref(), grace.phone.as_deref()),
        (Some("u1"), Some("+442079460958"))
    );
    let renamed = store
        .upsert_verified_contact(&verified("members", "u1", "Grace Hopper", None)?, minute(1))
        .await?;
    assert_eq!(renamed.id, grace.id);
    assert_eq!(renamed.name, "Grace Hopper");
    assert_eq!(
        renamed.phone.as_deref(),
        Some("+442079460958"),
        "kept when not given"
    );
    let other_channel = store
        .upsert_verified_contact(&verified("partners", "u1", "Grace", None)?, minute(1))
        .await?;
    assert_ne!(other_channel.id, grace.id);
    // Typing the same number in a live chat proves nothing: another contact.
    let typed = visitor(&*store, "Grace?", "020 7946 0958").await?;
    assert_ne!(typed.id, grace.id);
    assert_eq!(typed.user_id, None);
    assert_eq!(store.contact(grace.id).await?, Some(renamed));
    Ok(())
}

async fn one_conversation_per_contact_and_channel_is_open_even_when_two_start_at_once(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let (one, two) = tokio::join!(
        store.start_conversation(conversation(&grace, "members", minute(0))),
        store.start_conversation(conversation(&grace, "members", minute(0))),
    );
    let ((one, one_created), (two, two_created)) = (one?, two?);
    assert_eq!(one.id, two.id, "the same conversation");
    assert!(one_created != two_created, "exactly one of them created it");
    assert_eq!(
        store
            .open_conversation(grace.id, "members")
            .await?
            .map(|s| s.id),
        Some(one.id)
    );
    let (elsewhere, created) = store
        .start_conversation(conversation(&grace, "partners", minute(0)))
        .await?;
    assert!(
        created && elsewhere.id != one.id,
        "another channel, another conversation"
    );
    Ok(())
}

async fn a_fresh_conversation_can_start_once_the_last_is_ended(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let (first, _) = store
        .start_conversation(conversation(&grace, "members", minute(0)))
        .await?;
    end(&*store, first.id, EndReason::Agent, minute(5)).await?;
    assert_eq!(store.open_conversation(grace.id, "members").await?, None);
    let (fresh, created) = store
        .start_conversation(conversation(&grace, "members", minute(6)))
        .await?;
    assert!(created);
    assert_ne!(fresh.id, first.id);
    assert_eq!(fresh.last_seq, 0);
    Ok(())
}

async fn waiting_keeps_the_agent_and_reopening_queues_it_afresh_held_by_nobody(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let ada = agent(&*store, "ada").await?;
    let visitor = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let (open, _) = store
        .start_conversation(conversation(&grace, "members", minute(0)))
        .await?;
    assert_eq!(store.reopen(open.id, minute(1)).await?, None, "not waiting");
    join(&*store, open.id, &ada, minute(1)).await?;
    let waiting = store.set_waiting(open.id, ada.id).await?.context("waits")?;
    assert_eq!(waiting.state, SessionState::Waiting);
    assert_eq!(waiting.agent.as_ref(), Some(&ada));
    let earlier = store
        .create_session(live_session(&visitor, "support", minute(5)))
        .await?;
    let back = store.reopen(open.id, minute(9)).await?.context("reopens")?;
    assert_eq!((back.state, back.agent), (SessionState::Queued, None));
    assert_eq!(
        ids(&store.queued_sessions(minute(10)).await?),
        [earlier.id, open.id],
        "it queues from when it came back, behind a chat queued before that"
    );
    let rejoined = join(&*store, open.id, &ada, minute(12)).await?;
    assert_eq!(rejoined.state, SessionState::Active);
    assert_eq!(
        store.recent_waits("members", 1).await?,
        [Duration::minutes(3)],
        "its wait counts from when it came back"
    );
    Ok(())
}

async fn only_its_agent_sets_a_conversation_waiting_and_anyone_takes_it_up(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let (ada, bob) = (agent(&*store, "ada").await?, agent(&*store, "bob").await?);
    let (open, _) = store
        .start_conversation(conversation(&grace, "members", minute(0)))
        .await?;
    join(&*store, open.id, &ada, minute(1)).await?;
    assert_eq!(store.set_waiting(open.id, bob.id).await?, None);
    store.set_waiting(open.id, ada.id).await?.context("waits")?;
    let taken = join(&*store, open.id, &bob, minute(2)).await?;
    assert_eq!(
        (taken.state, taken.agent.as_ref()),
        (SessionState::Active, Some(&bob)),
        "a waiting conversation is anyone's to take up"
    );
    end(&*store, open.id, EndReason::Agent, minute(2)).await?;
    assert_eq!(store.set_waiting(open.id, ada.id).await?, None, "over");
    assert_eq!(reread(&*store, open.id).await?.state, SessionState::Ended);
    Ok(())
}

async fn an_identity_token_reads_back_with_what_it_opens_until_swept(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let grace = member(&*store).await?;
    let grant = |expires_at| IdentityGrant {
        contact_id: grace.id,
        channel: "members".into(),
        expires_at,
    };
    store
        .create_identity_token("old", &grant(minute(10)), minute(0))
        .await?;
    assert_eq!(
        store.identity_by_token("old").await?,
        Some(grant(minute(10)))
    );
    assert_eq!(store.identity_by_token("unknown").await?, None);
    // Expired tokens stay a week, so late callers hear "expired", then go.
    store
        .create_identity_token("new", &grant(minute(8 * DAY + 60)), minute(8 * DAY))
        .await?;
    assert_eq!(store.identity_by_token("old").await?, None);
    assert!(store.identity_by_token("new").await?.is_some());
    Ok(())
}

/// Regression: migration 2 rebuilds contacts, sessions and messages; a database made before
/// it must come through with every chat intact.
#[tokio::test]
async fn a_live_chat_database_from_before_persistent_mode_keeps_its_chats() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("palaver.db").display());
    let options = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()?
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await?;
    let mut first_only = sqlx::migrate!("./migrations");
    first_only.migrations = first_only.migrations[..1].to_vec().into();
    first_only.run(&pool).await?;
    sqlx::raw_sql(
        "INSERT INTO contacts VALUES ('6c4b6a3e-2f7c-4d39-9d0e-1b2a3c4d5e6f', '+442079460958', 'Ada', NULL, 0, 0);
         INSERT INTO sessions (id, token_hash, contact_id, channel, mode, state, started_at, ends_at, last_seq)
           VALUES ('0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', 'hash', '6c4b6a3e-2f7c-4d39-9d0e-1b2a3c4d5e6f', 'support', 'live', 'queued', 0, 86400000, 1);
         INSERT INTO messages VALUES ('9a8b7c6d-5e4f-4321-8fed-cba987654321', '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', 1, 'visitor', NULL, 'm1', 'Hello', 1);",
    )
    .execute(&pool)
    .await?;
    pool.close().await;

    let store = SqliteStore::connect(&url).await?;
    let session = store
        .session_by_token("hash")
        .await?
        .context("the session survived")?;
    assert_eq!(session.last_seq, 1);
    let contact = store
        .contact(session.contact_id)
        .await?
        .context("contact")?;
    assert_eq!(contact.phone.as_deref(), Some("+442079460958"));
    let messages = store
        .messages(session.id, PageRequest::Latest { limit: 10 })
        .await?;
    assert_eq!(messages.messages.len(), 1);
    assert_eq!(messages.messages[0].body, "Hello");
    Ok(())
}

async fn every_session_change_takes_a_greater_change_number_and_changed_sessions_follow_them(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    assert_eq!(store.last_change().await?, 0, "nothing has changed yet");
    let grace = agent(&*store, "grace").await?;
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let member = member(&*store).await?;
    let live = store
        .create_session(live_session(&ada, "support", minute(0)))
        .await?;
    let (open, _) = store
        .start_conversation(conversation(&member, "members", minute(0)))
        .await?;
    let mut changes = vec![live.change, open.change];
    changes.push(join(&*store, live.id, &grace, minute(1)).await?.change);
    changes.push(
        send(&*store, live.id, Author::Visitor, Some("m-1"), "Hi")
            .await?
            .change,
    );
    let regarding = store.set_regarding(live.id, Some("Order #1042")).await?;
    changes.push(regarding.context("regarding is set")?.change);
    join(&*store, open.id, &grace, minute(1)).await?;
    let waiting = store.set_waiting(open.id, grace.id).await?;
    changes.push(waiting.context("it waits")?.change);
    let reopened = store.reopen(open.id, minute(2)).await?;
    changes.push(reopened.context("it reopens")?.change);
    changes.push(
        end(&*store, live.id, EndReason::Agent, minute(3))
            .await?
            .change,
    );
    let note = send(
        &*store,
        live.id,
        Author::System,
        None,
        "Grace ended the chat.",
    )
    .await?;
    changes.push(note.change);
    assert!(
        changes.windows(2).all(|pair| pair[0] < pair[1]),
        "change numbers only grow: {changes:?}"
    );
    assert_eq!(
        reread(&*store, live.id).await?.change,
        note.change,
        "a session reads with its latest change number"
    );

    let retry = send(&*store, live.id, Author::Visitor, Some("m-1"), "Hi").await?;
    assert!(!retry.created);
    assert_eq!(retry.change, note.change, "a retry changes nothing");
    let again = join(&*store, open.id, &grace, minute(4)).await?;
    let unchanged = join(&*store, open.id, &grace, minute(5)).await?;
    assert_eq!(
        unchanged.change, again.change,
        "joining again changes nothing"
    );

    let changed = store.changed_sessions(0, 10).await?;
    let order: Vec<(Uuid, i64)> = changed
        .iter()
        .map(|(session, _)| (session.id, session.change))
        .collect();
    assert_eq!(
        order,
        [(live.id, note.change), (open.id, again.change)],
        "each session once, at its latest change, in change order"
    );
    assert_eq!(changed[0].1, ada, "with its contact");
    let after_live = store.changed_sessions(note.change, 10).await?;
    assert_eq!(
        ids(&after_live.into_iter().map(|(s, _)| s).collect::<Vec<_>>()),
        [open.id]
    );
    assert_eq!(
        store.changed_sessions(0, 1).await?.len(),
        1,
        "the limit holds"
    );
    assert!(store.changed_sessions(again.change, 10).await?.is_empty());
    assert_eq!(
        store.last_change().await?,
        again.change,
        "the last change is the greatest"
    );
    Ok(())
}

async fn inbox_pages_neither_skip_nor_repeat_sessions_started_in_the_same_millisecond(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let mut newest_first = Vec::new();
    // Three sessions to a minute, so that every page boundary can fall inside a millisecond.
    for n in 0..21 {
        let session = store
            .create_session(live_session(&ada, "support", minute(n / 3)))
            .await?;
        newest_first.push(session.id);
    }
    newest_first.reverse();
    for limit in [1, 2, 3, 4, 5, 50] {
        let mut paged = Vec::new();
        let mut before = None;
        loop {
            let filter = SessionFilter {
                before,
                limit,
                ..all()
            };
            let page = listed(&*store, filter, minute(30)).await?;
            assert!(page.len() <= limit as usize);
            let Some(last) = page.last() else { break };
            before = Some(*last);
            paged.extend(page);
        }
        assert_eq!(paged, newest_first, "pages of {limit}");
    }
    let after_unknown = SessionFilter {
        before: Some(Uuid::new_v4()),
        ..all()
    };
    assert_eq!(
        listed(&*store, after_unknown, minute(30)).await?,
        Vec::<Uuid>::new(),
        "a page after an unknown session is empty"
    );
    let queued = SessionFilter {
        state: Some(SessionState::Queued),
        before: Some(newest_first[4]),
        limit: 3,
        ..all()
    };
    assert_eq!(
        listed(&*store, queued, minute(30)).await?,
        newest_first[5..8],
        "filtered pages continue after the session too"
    );
    Ok(())
}

async fn an_append_past_a_deadline_is_refused_as_if_the_session_had_ended(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let ada = visitor(&*store, "Ada Lovelace", "020 7946 0958").await?;
    let grace = agent(&*store, "grace").await?;
    let window = store
        .create_session(live_session(&ada, "support", minute(0)))
        .await?;
    let inactive = store
        .create_session(NewSession {
            inactive_at: Some(minute(5)),
            ..live_session(&ada, "support", minute(0))
        })
        .await?;
    let original = send(&*store, inactive.id, Author::Visitor, Some("m-1"), "Hi").await?;
    for (session, deadline) in [(window.id, minute(DAY)), (inactive.id, minute(5))] {
        for author in [Author::Visitor, Author::Agent(grace.clone())] {
            let at_deadline = NewMessage {
                at: deadline,
                inactive_at: Some(deadline + Duration::minutes(5)),
                ..message(session, author.clone(), Some("late"), "Still there?")?
            };
            let refused = store.append_message(at_deadline).await?;
            assert!(refused.is_none(), "{author:?} wrote at the deadline");
        }
        let note = NewMessage {
            at: deadline,
            ..message(session, Author::System, None, "The chat is over.")?
        };
        let note = store.append_message(note).await?.context("a system note")?;
        assert!(note.created, "the system still writes");
    }
    let retry = NewMessage {
        at: minute(6),
        ..message(inactive.id, Author::Visitor, Some("m-1"), "Hi")?
    };
    let retry = store.append_message(retry).await?.context("the original")?;
    assert!(!retry.created);
    assert_eq!(retry.message, original.message);
    let after = reread(&*store, inactive.id).await?;
    assert_eq!(after.last_seq, 2, "refusals and retries take no number");
    assert_eq!(
        after.inactive_at,
        Some(minute(5)),
        "refusals move no deadline"
    );
    Ok(())
}

async fn an_appended_message_is_what_a_page_read_returns(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let session = ada_session(&*store).await?;
    let grace = agent(&*store, "grace").await?;
    // Stored to the millisecond: the answer must not keep what the store drops.
    let at = minute(1) + Duration::nanoseconds(123_456_789);
    let mut appended = Vec::new();
    for (author, client_msg_id) in [
        (Author::Visitor, Some("v-1")),
        (Author::Agent(grace.clone()), Some("a-1")),
        (Author::System, None),
    ] {
        let new = NewMessage {
            at,
            ..message(session.id, author, client_msg_id, "Hello")?
        };
        let sent = store.append_message(new).await?.context("appended")?;
        appended.push(sent.message);
    }
    let page = store
        .messages(session.id, PageRequest::Latest { limit: 10 })
        .await?;
    assert_eq!(page.messages, appended);
    Ok(())
}
