//! Idle sockets: how much memory each idle, authenticated visitor socket costs the server,
//! and a relay room's visitor socket the relay.

use std::path::Path;

use anyhow::{Context, Result};
use palaver_protocol::frames::{VisitorEvent, VisitorFrame};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{
    relay::VISITOR_PATH,
    report::{Row, ratio},
    scenario::Server,
    socket::{self, Socket},
    target::Process,
};

const SIZES: [usize; 2] = [1000, 5000];
/// Sockets opened at once.
const CONCURRENCY: usize = 64;

pub async fn run(binary: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for count in SIZES {
        let palaver = palaver(binary, count).await?;
        let relay = relay(count).await?;
        eprintln!("  {count} sockets: server {palaver:.1} KiB each, relay {relay:.1} KiB each");
        rows.push(Row::both(
            format!("idle visitor sockets, {}k: memory per socket", count / 1000),
            format!("{palaver:.1} KiB"),
            format!("{relay:.1} KiB"),
            ratio(palaver, relay),
        ));
    }
    Ok(rows)
}

/// KiB of server memory per socket. The sessions are stored beforehand, each held by an
/// agent as a chat in progress is.
async fn palaver(binary: &Path, count: usize) -> Result<f64> {
    let (server, visitors) = Server::start(binary, async |seeder| {
        let agents = seeder.agents(1, 3).await?;
        seeder.open_sessions(count, agents.first()).await
    })
    .await?;
    let api = server.api.clone();
    let sockets = measure(&server.process, visitors, move |visitor| {
        let api = api.clone();
        async move { api.visitor_socket(&visitor).await }
    })
    .await?;
    Ok(sockets)
}

/// KiB of relay memory per visitor socket, one room each.
async fn relay(count: usize) -> Result<f64> {
    let dir = tempfile::tempdir().context("creating a directory for the relay")?;
    let relay = Process::relay(dir.path())?;
    let port = relay.port;
    measure(&relay, vec![(); count], move |()| async move {
        let mut socket = socket::open(
            &format!("ws://127.0.0.1:{port}{VISITOR_PATH}"),
            &VisitorFrame::Auth {
                token: Uuid::new_v4().to_string(),
                after_seq: 0,
                session_id: None,
            },
        )
        .await?;
        socket::until(&mut socket, |event: &VisitorEvent| {
            matches!(event, VisitorEvent::Ready { .. })
        })
        .await?;
        Ok(socket)
    })
    .await
}

/// Opens a socket per item, each authenticated and ready, and returns how much the
/// process's resident memory grew per socket, in KiB. The sockets stay open until then.
async fn measure<T: Send + 'static, F>(
    process: &Process,
    items: Vec<T>,
    open: impl Fn(T) -> F,
) -> Result<f64>
where
    F: Future<Output = Result<Socket>> + Send + 'static,
{
    let count = items.len();
    let before = process.rss_kib()?;
    let mut sockets = Vec::with_capacity(count);
    let mut opening = JoinSet::new();
    for item in items {
        if opening.len() >= CONCURRENCY
            && let Some(opened) = opening.join_next().await
        {
            sockets.push(opened.context("opening a socket")??);
        }
        opening.spawn(open(item));
    }
    while let Some(opened) = opening.join_next().await {
        sockets.push(opened.context("opening a socket")??);
    }
    let after = process.rss_kib()?;
    drop(sockets);
    Ok(after.saturating_sub(before) as f64 / count as f64)
}
