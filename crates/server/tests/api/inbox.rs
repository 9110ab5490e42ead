//! The inbox a page at a time: `before` continues after the last session of a page.

use chrono::Duration;
use palaver_protocol::AgentSession;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn paging_the_inbox_lists_every_session_once_newest_first() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let mut started = Vec::new();
    for n in 0..8 {
        // Two sessions to an instant, so that pages also end between sessions that started
        // in the same millisecond.
        if n % 2 == 0 {
            app.advance(Duration::seconds(1));
        }
        let created = app
            .start_ok(
                "support",
                &format!("Visitor {n}"),
                &format!("020 7946 09{n:02}"),
            )
            .await;
        started.push(created.session.id);
    }
    started.reverse();

    let mut paged = Vec::new();
    let mut pages = 0;
    let mut path = "/sessions?limit=3".to_owned();
    loop {
        let page: Vec<AgentSession> =
            expect_json(app.agent_get(&agent, &path).await, StatusCode::OK).await;
        let Some(last) = page.last() else { break };
        pages += 1;
        path = format!("/sessions?limit=3&before={}", last.session.id);
        paged.extend(page.iter().map(|listed| listed.session.id));
    }
    assert_eq!(pages, 3);
    assert_eq!(paged, started);
}

#[tokio::test]
async fn a_page_after_an_unknown_session_is_empty_and_a_malformed_one_is_refused() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    app.start_ok("support", "Ada Lovelace", "020 7946 0958")
        .await;

    let unknown = format!("/sessions?before={}", Uuid::new_v4());
    let page: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, &unknown).await, StatusCode::OK).await;
    assert!(page.is_empty());
    expect_error(
        app.agent_get(&agent, "/sessions?before=yesterday").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
