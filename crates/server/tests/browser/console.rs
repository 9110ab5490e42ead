//! The agent console end to end: an agent in one browser, a visitor in another (separate
//! profiles), against the real server and both built apps.

use anyhow::{Context, ensure};
use chrono::Duration;
use palaver_protocol::{AgentSession, ChannelMode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    AGENT, BROWSER_TIME_ZONE, Console, SENT, SYSTEM, TestApp, VISITOR, Widget, wait_for,
};

/// Text a visitor may send that would do harm if the console treated it as markup or
/// code: none of it is a tag the server refuses, all of it must show exactly as typed.
const SHARP_TEXT: &str = "5 <3 \"quoted\" 'single' & {{7*7}} ${1+1} javascript:alert(1)";
/// The same kind of text in a name.
const SHARP_NAME: &str = "Zoë \"Z\" O'Brien <3";

/// The newest session the agent API lists, once there is one that `wanted` accepts.
async fn newest(
    app: &TestApp,
    token: &str,
    wanted: impl Fn(&AgentSession) -> bool,
) -> anyhow::Result<AgentSession> {
    wait_for("a session in the inbox", async || {
        app.inbox(token).await.into_iter().find(&wanted)
    })
    .await
}

#[tokio::test]
async fn an_agent_signs_in_sees_a_new_chat_arrive_replies_and_the_visitor_reads_it() {
    let app = TestApp::spawn().await;
    let api = app.agent_token().await;
    app.browse_two(async |desk, visitor| {
        let console = Console::open(desk, &app).await?;
        console.fill("sign-in-name", "demo").await?;
        console.fill("sign-in-password", "wrong").await?;
        console.click("sign-in-submit").await?;
        console
            .find("sign-in-error")
            .await
            .context("a wrong password is refused in words")?;
        console.submit_credentials("demo", "demo").await?;
        console.wait_text("agent-name", "demo").await?;

        let widget = Widget::visit(visitor, &app.url("/")).await?;
        widget.start_chat(SHARP_NAME, "+1 202 555 0143").await?;
        widget.say(SHARP_TEXT).await?;
        let session = newest(&app, &api, |_| true).await?.session;

        console
            .row(session.id)
            .await
            .context("the new chat appears live")?;
        console
            .wait_cell(session.id, "row-to", &SHARP_NAME.to_lowercase())
            .await?;
        console.wait_cell(session.id, "row-state", "active").await?;
        console.wait_cell(session.id, "row-agent", "demo").await?;
        console.wait_cell(session.id, "row-channel", "demo").await?;
        console.wait_cell(session.id, "row-mode", "live").await?;
        console
            .find_css(&format!(
                "[data-session-id=\"{}\"] [data-testid=unread-mark]",
                session.id
            ))
            .await
            .context("a message arrived while the chat was not open")?;

        let start = console
            .query(
                &format!(
                    "const time = root.querySelector('[data-session-id=\"{}\"] \
                     [data-testid=row-start] time'); \
                     return [time.getAttribute('datetime'), time.title, time.textContent];",
                    session.id
                ),
                "",
            )
            .await?;
        let utc = session.started_at;
        let local = utc.with_timezone(&BROWSER_TIME_ZONE.parse::<chrono_tz::Tz>()?);
        let [datetime, title, shown] = [&start[0], &start[1], &start[2]]
            .map(|value| value.as_str().unwrap_or_default().to_owned());
        ensure!(
            datetime
                .parse::<chrono::DateTime<chrono::Utc>>()
                .is_ok_and(|at| at.timestamp() == utc.timestamp()),
            "datetime {datetime:?} names the start in UTC"
        );
        ensure!(
            title.ends_with("UTC") && title.contains(&utc.format("%H:%M").to_string()),
            "the UTC time on hover, got {title:?}"
        );
        ensure!(
            shown.contains(&local.format("%H:%M").to_string()),
            "the agent's own time ({BROWSER_TIME_ZONE}) shown, got {shown:?}"
        );

        console.open_session(session.id).await?;
        console
            .wait_messages(&[
                (SYSTEM, "", "demo joined the chat."),
                (VISITOR, "", SHARP_TEXT),
            ])
            .await?;
        ensure!(
            !console.has("unread-mark").await?,
            "opening the chat clears its mark"
        );
        let markup = console
            .query(
                "return root.querySelectorAll('[data-testid=message-body] *, \
                 [data-testid=row-to] img, [data-testid=conversation-to] img').length;",
                "",
            )
            .await?;
        ensure!(markup == json!(0), "visitor text stays text");
        let injected = console
            .query(
                "const script = document.createElement('script'); \
                 script.textContent = 'window.injected = true;'; \
                 document.body.append(script); \
                 return window.injected === true;",
                "",
            )
            .await?;
        ensure!(
            injected == json!(false),
            "the console's policy lets no script but its own run"
        );
        let to = console.text("conversation-to").await?;
        ensure!(
            to.contains(SHARP_NAME),
            "the contact's name shows as typed, got {to:?}"
        );

        widget.fill("composer-input", "One more").await?;
        console
            .find("visitor-typing")
            .await
            .context("the visitor's typing shows")?;

        console
            .fill("reply-input", "Hello Zoë, how can I help?\u{E007}")
            .await?;
        widget
            .wait_messages(&[
                (SYSTEM, SENT, "demo joined the chat."),
                (VISITOR, SENT, SHARP_TEXT),
                (AGENT, SENT, "Hello Zoë, how can I help?"),
            ])
            .await?;

        console.click("end-session").await?;
        widget
            .find("chat-ended")
            .await
            .context("the visitor sees the end")?;
        console.find("read-only-notice").await?;
        ensure!(
            !console.has("reply-input").await?,
            "an ended chat takes no reply"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn chat_history_lists_both_sessions_of_a_contact_who_came_back_after_the_window() {
    let app = TestApp::spawn().await;
    let api = app.agent_token().await;
    app.browse_two(async |desk, visitor| {
        let widget = Widget::visit(visitor, &app.url("/")).await?;
        widget.start_chat("Ada Lovelace", "+1 202 555 0143").await?;
        widget.say("First visit").await?;
        let first = newest(&app, &api, |_| true).await?.session;
        app.reply(&api, first.id, "Noted, thank you").await;

        app.advance(Duration::hours(25));
        // A sign-in lasts 12 hours: the test's own agent signs in again.
        let api = app.agent_token().await;
        widget.reload().await?;
        widget.click("start-again").await?;
        widget.find("composer-input").await?;
        widget.say("Second visit").await?;
        let second = newest(&app, &api, |row| row.session.id != first.id)
            .await?
            .session;
        ensure!(second.contact_id == first.contact_id, "the same contact");

        let console = Console::sign_in(desk, &app).await?;
        console.open_session(second.id).await?;
        console.click("chat-history-button").await?;
        console.find("chat-history").await?;
        let listed = wait_for("both sessions in the Chat History", async || {
            let ids = console
                .query(
                    "return [...root.querySelectorAll('[data-testid=history-row]')] \
                     .map(row => row.dataset.sessionId);",
                    "",
                )
                .await
                .ok()?;
            let ids: Vec<Uuid> = serde_json::from_value(ids).ok()?;
            (ids.len() == 2).then_some(ids)
        })
        .await?;
        ensure!(
            listed == [second.id, first.id],
            "newest first, got {listed:?}"
        );

        console
            .find_css(&format!(
                "[data-testid=history-row][data-session-id=\"{}\"]",
                first.id
            ))
            .await?
            .click()
            .await?;
        console.find("read-only-notice").await?;
        console
            .wait_messages(&[
                (VISITOR, "", "First visit"),
                (SYSTEM, "", "demo joined the chat."),
                (AGENT, "", "Noted, thank you"),
                (SYSTEM, "", "This chat's time is up."),
            ])
            .await?;
        ensure!(
            !console.has("reply-input").await?,
            "an earlier session opens read-only"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn waiting_and_the_end_from_the_console_change_what_the_visitor_sees() {
    let app = TestApp::spawn().await;
    let api = app.agent_token().await;
    let token = app.identity_token("grace-7", json!({"name": "Grace Hopper"}));
    app.browse_two(async |desk, visitor| {
        let console = Console::sign_in(desk, &app).await?;
        let widget = Widget::visit(visitor, &app.signed_in_page(&token)).await?;
        widget.say("Can you check my order?").await?;
        let session = newest(&app, &api, |row| {
            row.session.mode == ChannelMode::Persistent
        })
        .await?
        .session;
        console.wait_cell(session.id, "row-state", "active").await?;
        console
            .wait_cell(session.id, "row-mode", "persistent")
            .await?;
        console.open_session(session.id).await?;

        console.click("set-waiting").await?;
        console
            .wait_cell(session.id, "row-state", "waiting")
            .await?;
        let on_hold = "demo put the conversation on hold. Write here whenever you like, \
                       and we'll pick it up.";
        widget
            .wait_messages(&[
                (VISITOR, SENT, "Can you check my order?"),
                (SYSTEM, SENT, "demo joined the chat."),
                (SYSTEM, SENT, on_hold),
            ])
            .await
            .context("the visitor reads that the conversation is on hold")?;

        widget.say("Any news?").await?;
        console
            .wait_cell(session.id, "row-state", "active")
            .await
            .context("the visitor's message brings it back to the agent")?;
        console
            .wait_messages(&[
                (VISITOR, "", "Can you check my order?"),
                (SYSTEM, "", "demo joined the chat."),
                (SYSTEM, "", on_hold),
                (VISITOR, "", "Any news?"),
                (SYSTEM, "", "demo joined the chat."),
            ])
            .await?;

        console.click("end-session").await?;
        widget
            .find("conversation-closed")
            .await
            .context("the visitor sees the conversation closed")?;
        console.wait_cell(session.id, "row-state", "ended").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_expired_sign_in_returns_to_the_form_and_keeps_the_typed_reply() {
    let app = TestApp::spawn().await;
    let api = app.agent_token().await;
    app.browse_two(async |desk, visitor| {
        let console = Console::sign_in(desk, &app).await?;
        let widget = Widget::visit(visitor, &app.url("/")).await?;
        widget.start_chat("Grace Hopper", "+1 202 555 0143").await?;
        widget.say("Hello?").await?;
        let session = newest(&app, &api, |_| true).await?.session;
        console.open_session(session.id).await?;
        let draft = "Let me look that up for you";
        console.fill("reply-input", draft).await?;

        app.advance(Duration::hours(13));
        console.click("reply-send").await?;
        console
            .find("sign-in-expired")
            .await
            .context("an expired sign-in sends the agent back to the form")?;
        console.submit_credentials("demo", "demo").await?;
        console
            .find_css(&format!(
                "[data-testid=conversation][data-session-id=\"{}\"]",
                session.id
            ))
            .await?;
        ensure!(
            console.value("reply-input").await? == draft,
            "the typed reply is still there"
        );
        console.click("reply-send").await?;
        widget
            .wait_messages(&[
                (SYSTEM, SENT, "demo joined the chat."),
                (VISITOR, SENT, "Hello?"),
                (AGENT, SENT, draft),
            ])
            .await?;
        Ok(())
    })
    .await;
}
