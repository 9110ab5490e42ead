//! Persistent mode in the browser: signed-in visitors on the demo's signed-in host page
//! (`/demo/signed-in`), whose identity tokens the tests sign as the host site would.

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use palaver_protocol::{AgentSession, ChannelMode, SessionState};
use serde_json::json;

use crate::helpers::{AGENT, SENT, SYSTEM, TestApp, VISITOR, Widget, wait_for};

/// Signs in through the page's own form, which hands the widget an identity provider.
async fn sign_in_on_page(browser: &Client, user_id: &str, name: &str) -> Result<()> {
    let field = browser.find(Locator::Id("user-id")).await?;
    field.clear().await?;
    field.send_keys(user_id).await?;
    let field = browser.find(Locator::Id("user-name")).await?;
    field.clear().await?;
    field.send_keys(name).await?;
    browser.find(Locator::Id("sign-in")).await?.click().await?;
    Ok(())
}

/// The conversations of the persistent channel, newest first, as agents list them.
async fn conversations(app: &TestApp, agent: &str) -> Vec<AgentSession> {
    app.inbox(agent)
        .await
        .into_iter()
        .filter(|row| row.session.mode == ChannelMode::Persistent)
        .collect()
}

#[tokio::test]
async fn a_signed_in_visitor_finds_the_same_conversation_on_another_device_and_cannot_end_it() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    let token = app.identity_token("grace-1", json!({}));
    app.browse_two(async |laptop, phone| {
        let on_laptop = Widget::visit(laptop, &app.signed_in_page(&token)).await?;
        on_laptop.find("composer-input").await?;
        ensure!(!on_laptop.has("end-chat").await?, "no end button");
        ensure!(!on_laptop.has("queue-status").await?, "no queue position");
        on_laptop.say("Hello from the laptop").await?;
        on_laptop
            .wait_messages(&[(VISITOR, SENT, "Hello from the laptop")])
            .await?;
        let session = conversations(&app, &agent).await[0].session.id;
        app.reply(&agent, session, "Hi Grace").await;
        let history = [
            (VISITOR, SENT, "Hello from the laptop"),
            (SYSTEM, SENT, "demo joined the chat."),
            (AGENT, SENT, "Hi Grace"),
        ];
        on_laptop.wait_messages(&history).await?;

        // Another browser profile: nothing stored, signed in by the page's form.
        phone.goto(&app.url("/demo/signed-in")).await?;
        let on_phone = Widget::new(phone);
        on_phone.open().await?;
        on_phone.find("sign-in-needed").await?;
        sign_in_on_page(phone, "grace-1", "Grace Hopper").await?;
        on_phone.wait_messages(&history).await?;
        on_phone.say("And from my phone").await?;
        let both = [
            history[0],
            history[1],
            history[2],
            (VISITOR, SENT, "And from my phone"),
        ];
        on_laptop.wait_messages(&both).await?;

        // The phone's sign-in runs out; the page's provider renews it and nothing is lost.
        app.advance(chrono::Duration::minutes(11));
        on_phone.say("Still here").await?;
        let mut renewed = both.to_vec();
        renewed.push((VISITOR, SENT, "Still here"));
        on_phone.wait_messages(&renewed).await?;
        ensure!(
            conversations(&app, &agent).await.len() == 1,
            "one conversation for both devices"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn waiting_then_return_then_an_agents_end_and_a_fresh_start_without_the_old_history() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    let _console = app.online(&agent).await;
    let token = app.identity_token("grace-1", json!({}));
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.signed_in_page(&token)).await?;
        widget.say("First question").await?;
        widget
            .wait_messages(&[
                (VISITOR, SENT, "First question"),
                (SYSTEM, SENT, "demo joined the chat."),
            ])
            .await?;
        let session = conversations(&app, &agent).await[0].session.id;
        app.reply(&agent, session, "Answered").await;
        app.wait_as_agent(&agent, session).await;
        ensure!(
            conversations(&app, &agent).await[0].session.state == SessionState::Waiting,
            "set aside"
        );

        widget.say("One more thing").await?;
        widget
            .wait_messages(&[
                (VISITOR, SENT, "First question"),
                (SYSTEM, SENT, "demo joined the chat."),
                (AGENT, SENT, "Answered"),
                (
                    SYSTEM,
                    SENT,
                    "demo put the conversation on hold. Write here whenever you like, and \
                     we'll pick it up.",
                ),
                (VISITOR, SENT, "One more thing"),
                (SYSTEM, SENT, "demo joined the chat."),
            ])
            .await?;
        let back = wait_for("the conversation to come back to its agent", async || {
            let row = conversations(&app, &agent).await.into_iter().next()?;
            (row.session.state == SessionState::Active).then_some(row)
        })
        .await?;
        ensure!(back.session.id == session, "the same conversation");
        ensure!(
            back.session.agent.map(|agent| agent.name).as_deref() == Some("demo"),
            "to the same agent first"
        );

        app.end_as_agent(&agent, session).await;
        widget.find("conversation-closed").await?;
        ensure!(
            widget.find("composer-input").await.is_ok(),
            "the visitor can still write"
        );
        widget.say("A new question").await?;
        let fresh = [
            (VISITOR, SENT, "A new question"),
            (SYSTEM, SENT, "demo joined the chat."),
        ];
        widget.wait_messages(&fresh).await?;
        widget.reload().await?;
        widget.wait_messages(&fresh).await?;
        let rows = conversations(&app, &agent).await;
        ensure!(rows.len() == 2, "a fresh conversation, the old one kept");
        ensure!(
            rows[0].to.id == rows[1].to.id,
            "both under the same contact"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn each_refused_identity_token_is_explained_in_the_widget_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let agent = app.agent_token().await;
    let hour = chrono::Duration::hours(1);
    let now = chrono::Utc::now();
    let unsigned = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = json!({"sub": "grace-1", "aud": "palaver", "exp": (now + hour).timestamp()});
        format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
    };
    let cases = [
        (unsigned, "Unsigned"),
        (
            app.identity_token_with("grace-1", json!({}), b"not-the-sites-secret-0123456789abc"),
            "signature",
        ),
        (
            app.identity_token("grace-1", json!({"exp": (now - hour).timestamp()})),
            "expired",
        ),
        (
            app.identity_token("grace-1", json!({"nbf": (now + hour).timestamp()})),
            "not valid until",
        ),
        (
            app.identity_token("grace-1", json!({"aud": "another-app"})),
            "audience",
        ),
    ];
    app.browse(async |browser| {
        for (token, words) in &cases {
            let widget = Widget::visit(browser, &app.signed_in_page(token)).await?;
            let shown = wait_for(&format!("the refusal to mention {words:?}"), async || {
                let text = widget.text("identity-error").await.ok()?;
                text.contains(words).then_some(text)
            })
            .await?;
            ensure!(
                !widget.has("composer-input").await?,
                "no chat without an identity: {shown}"
            );
        }
        ensure!(
            conversations(&app, &agent).await.is_empty(),
            "nothing written"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn signing_out_or_in_as_someone_else_clears_every_trace_of_the_visitor() {
    let app = TestApp::spawn().await;
    let grace = app.identity_token("grace-1", json!({}));
    let alan = app.identity_token("alan-2", json!({"name": "Alan Turing"}));
    app.browse(async |browser| {
        let widget = Widget::visit(browser, &app.signed_in_page(&grace)).await?;
        widget.say("Grace's private question").await?;
        widget
            .wait_messages(&[(VISITOR, SENT, "Grace's private question")])
            .await?;

        // Another person signs in on the same computer.
        browser
            .execute("Palaver.identify(arguments[0]);", vec![json!(alan)])
            .await?;
        widget.wait_messages(&[]).await?;
        widget.say("Alan here").await?;
        widget
            .wait_messages(&[(VISITOR, SENT, "Alan here")])
            .await?;

        browser.execute("Palaver.reset();", vec![]).await?;
        widget.find("sign-in-needed").await?;
        widget.wait_messages(&[]).await?;
        let stored = browser
            .execute(
                "return Object.keys(localStorage).filter(key => key.startsWith('palaver:'));",
                vec![],
            )
            .await?;
        ensure!(stored == json!([]), "nothing left in storage: {stored}");
        // Back on the page with nobody signed in: nothing of either of them.
        let widget = Widget::visit(browser, &app.url("/demo/signed-in")).await?;
        widget.find("sign-in-needed").await?;
        widget
            .wait_messages(&[])
            .await
            .context("no history after a reload")?;
        Ok(())
    })
    .await;
}
