//! Browser end-to-end tests: the real server (on a clock the tests move) with a fresh
//! database, the built widget and the demo page, driven in headless Chromium through
//! Debian's chromedriver, the way a visitor uses them.
//!
//! They need the widget built into `dist/` (or `PALAVER_WIDGET_DIR`), the console into
//! `crates/console/dist/` (or `PALAVER_CONSOLE_DIR`), and Chromium with its driver
//! installed; `cargo xtask test` does all three, then runs them.

mod console;
mod helpers;
mod persistent;

use anyhow::ensure;
use palaver_protocol::{EndReason, Sender, SessionState};

use crate::helpers::{TestApp, Widget, wait_for};

#[tokio::test]
async fn the_demo_page_shows_the_launcher_which_opens_the_chat_panel_and_escape_closes_it() {
    let app = TestApp::spawn().await;
    app.browse(async |browser| {
        browser.goto(&app.url("/")).await?;
        let widget = Widget::new(browser);
        widget.find("launcher").await?;
        let label = widget.launcher_label().await?;
        ensure!(
            label == "Chat with us",
            "the launcher has its accessible label"
        );
        widget.open().await?;
        widget.find("input-name").await?;
        let focused = widget
            .query("return root.activeElement?.dataset.testid ?? null;", "")
            .await?;
        ensure!(
            focused == "input-name",
            "focus moves into the panel, got {focused}"
        );

        widget.fill("input-name", "\u{E00C}").await?;
        wait_for(
            "Escape to close the panel and focus the launcher",
            async || {
                let state = widget
                    .query(
                        "return [root.querySelector('[data-testid=panel]').hidden, \
                     root.activeElement?.dataset.testid ?? null];",
                        "",
                    )
                    .await
                    .ok()?;
                (state == serde_json::json!([true, "launcher"])).then_some(())
            },
        )
        .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_first_visit_checks_the_details_then_chats_with_an_agent_as_text_only() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.url("/")).await?;

        widget.click("start-chat").await?;
        widget
            .wait_text("error-name", "Please enter your name.")
            .await?;
        widget
            .wait_text("error-phone", "Please enter your contact number.")
            .await?;
        widget.fill("input-name", "Grace Hopper").await?;
        widget.fill("input-phone", "12").await?;
        widget.click("start-chat").await?;
        widget
            .wait_text(
                "error-phone",
                "That doesn't look like a valid phone number.",
            )
            .await?;
        ensure!(
            widget.text("error-name").await?.is_empty(),
            "a fixed field loses its error"
        );
        ensure!(
            app.inbox(&agent).await.is_empty(),
            "refused details start nothing"
        );

        widget
            .start_chat("Grace Hopper", "+44 20 7946 0958")
            .await?;
        widget
            .wait_text(
                "queue-status",
                "You are number 1 in the queue. Estimated wait: 2 min.",
            )
            .await?;
        widget.say("Hello, is anyone there?").await?;
        widget
            .wait_messages(&[("visitor", "sent", "Hello, is anyone there?")])
            .await?;

        let inbox = app.inbox(&agent).await;
        ensure!(inbox.len() == 1, "one session: {inbox:?}");
        ensure!(
            inbox[0].to.phone.as_deref() == Some("+442079460958"),
            "stored as E.164"
        );
        let session = inbox[0].session.id;
        app.reply(&agent, session, "Hi Grace, how can I help?")
            .await;
        widget
            .wait_messages(&[
                ("visitor", "sent", "Hello, is anyone there?"),
                ("system", "sent", "demo joined the chat."),
                ("agent", "sent", "Hi Grace, how can I help?"),
            ])
            .await?;
        wait_for("the queue notice to go once an agent joined", async || {
            widget
                .text("queue-status")
                .await
                .ok()?
                .is_empty()
                .then_some(())
        })
        .await?;

        // What a visitor types is text: markup is refused, symbols arrive as typed.
        widget.say("<img src=x onerror=alert(1)>").await?;
        wait_for("the markup to be refused", async || {
            let rows = widget.messages().await.ok()?;
            rows.iter()
                .any(|(_, status, _)| status == "refused")
                .then_some(())
        })
        .await?;
        widget.say("5 < 6 & I <3 this").await?;
        wait_for("the plain text to be sent", async || {
            let rows = widget.messages().await.ok()?;
            rows.iter()
                .any(|row| row == &("visitor".into(), "sent".into(), "5 < 6 & I <3 this".into()))
                .then_some(())
        })
        .await?;
        let images = widget
            .query("return root.querySelectorAll('img').length;", "")
            .await?;
        ensure!(images == 0, "nothing typed became an element");
        let stored: Vec<_> = app
            .transcript(&agent, session)
            .await
            .into_iter()
            .filter(|message| message.sender == Sender::Visitor)
            .map(|message| message.body)
            .collect();
        ensure!(
            stored == ["Hello, is anyone there?", "5 < 6 & I <3 this"],
            "each message stored once: {stored:?}"
        );

        // Closed, the launcher counts what arrives; opening clears it.
        widget.click("panel-close").await?;
        app.reply(&agent, session, "Are you still there?").await;
        widget.wait_text("unread", "1").await?;
        let label = widget.launcher_label().await?;
        ensure!(label == "Chat with us (1 unread messages)", "{label}");
        widget.open().await?;
        widget.wait_text("unread", "").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_reload_inside_the_window_resumes_the_same_session_with_its_history() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.url("/")).await?;
        widget.start_chat("Grace", "+44 20 7946 0958").await?;
        widget.say("First question").await?;
        widget
            .wait_messages(&[("visitor", "sent", "First question")])
            .await?;
        let session = app.inbox(&agent).await[0].session.id;
        app.reply(&agent, session, "First answer").await;

        app.advance(chrono::Duration::hours(23));
        // The agent signs in again: a sign-in lasts 12 hours.
        let agent = app.agent_token().await;
        widget.reload().await?;
        widget
            .wait_messages(&[
                ("visitor", "sent", "First question"),
                ("system", "sent", "demo joined the chat."),
                ("agent", "sent", "First answer"),
            ])
            .await?;
        widget.say("Second question").await?;
        // The reply follows the question once the server has it, as an agent's would.
        widget
            .wait_messages(&[
                ("visitor", "sent", "First question"),
                ("system", "sent", "demo joined the chat."),
                ("agent", "sent", "First answer"),
                ("visitor", "sent", "Second question"),
            ])
            .await?;
        app.reply(&agent, session, "Second answer").await;
        widget
            .wait_messages(&[
                ("visitor", "sent", "First question"),
                ("system", "sent", "demo joined the chat."),
                ("agent", "sent", "First answer"),
                ("visitor", "sent", "Second question"),
                ("agent", "sent", "Second answer"),
            ])
            .await?;
        ensure!(app.inbox(&agent).await.len() == 1, "still one session");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn after_the_window_the_form_returns_and_starts_a_new_session_under_the_same_contact() {
    let app = TestApp::spawn().await;
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.url("/")).await?;
        widget.start_chat("Grace", "+44 20 7946 0958").await?;
        widget.say("Yesterday's question").await?;
        widget
            .wait_messages(&[("visitor", "sent", "Yesterday's question")])
            .await?;

        app.advance(chrono::Duration::hours(25));
        widget.reload().await?;
        widget
            .wait_text(
                "restart-notice",
                "Your previous chat has ended: chats stay open for 24 hours.",
            )
            .await?;
        widget
            .wait_text("start-again", "Start a new chat as Grace")
            .await?;
        widget.click("start-again").await?;
        widget.find("composer-input").await?;
        widget.say("Today's question").await?;
        widget
            .wait_messages(&[("visitor", "sent", "Today's question")])
            .await?;

        let agent = app.agent_token().await;
        let inbox = app.inbox(&agent).await;
        ensure!(inbox.len() == 2, "two sessions: {inbox:?}");
        ensure!(inbox[0].to.id == inbox[1].to.id, "under the same contact");
        ensure!(
            inbox[1].session.end_reason == Some(EndReason::Expired),
            "the first expired"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn either_side_can_end_the_chat_and_the_visitor_can_start_again() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.url("/")).await?;
        widget.start_chat("Grace", "+44 20 7946 0958").await?;
        widget.click("end-chat").await?;
        widget
            .wait_text("ended-reason", "You ended this chat.")
            .await?;
        let inbox = app.inbox(&agent).await;
        ensure!(
            inbox[0].session.state == SessionState::Ended,
            "ended on the server"
        );
        ensure!(
            inbox[0].session.end_reason == Some(EndReason::Visitor),
            "by the visitor"
        );

        widget.click("new-chat").await?;
        widget.click("start-again").await?;
        widget.find("composer-input").await?;
        let session = app.inbox(&agent).await[0].session.id;
        app.end_as_agent(&agent, session).await;
        widget
            .wait_text("ended-reason", "The agent ended this chat.")
            .await?;
        let composer = widget
            .query(
                "return !!root.querySelector('[data-testid=composer-input]');",
                "",
            )
            .await?;
        ensure!(composer == false, "an ended chat offers no message box");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_message_typed_while_the_server_is_down_is_delivered_once_when_it_returns() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.url("/")).await?;
        widget.start_chat("Grace", "+44 20 7946 0958").await?;
        let session = app.inbox(&agent).await[0].session.id;

        app.stop_server().await;
        wait_for("the widget to show it is offline", async || {
            let state = widget
                .query(
                    "return root.querySelector('[data-testid=connection]')?.dataset.state;",
                    "",
                )
                .await
                .ok()?;
            (state == "offline").then_some(())
        })
        .await?;
        widget.say("Sent while you were away").await?;
        widget
            .wait_messages(&[("visitor", "pending", "Sent while you were away")])
            .await?;

        app.start_server().await;
        widget
            .wait_messages(&[("visitor", "sent", "Sent while you were away")])
            .await?;
        widget.reload().await?;
        widget
            .wait_messages(&[("visitor", "sent", "Sent while you were away")])
            .await?;
        let stored: Vec<_> = app
            .transcript(&agent, session)
            .await
            .into_iter()
            .map(|message| message.body)
            .collect();
        ensure!(
            stored == ["Sent while you were away"],
            "delivered once: {stored:?}"
        );
        Ok(())
    })
    .await;
}
