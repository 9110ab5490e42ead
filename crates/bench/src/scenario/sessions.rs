//! Session starts and the inbox with 1k and 10k sessions stored: how much the history of
//! the server slows down a visitor starting a chat and an agent opening the console.

use std::{path::Path, time::Instant};

use anyhow::Result;

use crate::{
    report::{Row, ratio},
    scenario::Server,
    stats::{Samples, ms},
};

const STORED: [usize; 2] = [1000, 10_000];
/// Requests timed for each figure, one at a time.
const SAMPLES: usize = 200;

pub async fn run(binary: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut p50s = Vec::new();
    for stored in STORED {
        let (server, agents) = Server::start(binary, async |seeder| {
            seeder.stored_sessions(stored).await?;
            seeder.agents(1, 3).await
        })
        .await?;
        let api = &server.api;
        let mut starts = Samples::default();
        for n in 0..SAMPLES {
            let began = Instant::now();
            let visitor = api.start(stored + n).await?;
            starts.push(began.elapsed());
            // Ended at once, so the queue stays as long as it was.
            api.end(&visitor).await?;
        }
        let agent = api.login(&agents[0].name).await?;
        let mut inbox = Samples::default();
        for _ in 0..SAMPLES {
            let began = Instant::now();
            api.inbox(&agent).await?;
            inbox.push(began.elapsed());
        }
        let size = format!("{}k stored", stored / 1000);
        eprintln!(
            "  {size}: start p50 {} p99 {}, inbox p50 {} p99 {}",
            ms(starts.p50()),
            ms(starts.p99()),
            ms(inbox.p50()),
            ms(inbox.p99())
        );
        rows.push(Row::palaver(
            format!("session start, {size}: p50 / p99"),
            format!("{} / {}", ms(starts.p50()), ms(starts.p99())),
        ));
        rows.push(Row::palaver(
            format!("inbox first page, {size}: p50 / p99"),
            format!("{} / {}", ms(inbox.p50()), ms(inbox.p99())),
        ));
        p50s.push((starts.p50(), inbox.p50()));
    }
    if let [(start_small, inbox_small), (start_large, inbox_large)] = p50s[..] {
        rows.push(Row::ratio(
            "session start p50, 10k / 1k stored",
            ratio(start_large.as_secs_f64(), start_small.as_secs_f64()),
        ));
        rows.push(Row::ratio(
            "inbox first page p50, 10k / 1k stored",
            ratio(inbox_large.as_secs_f64(), inbox_small.as_secs_f64()),
        ));
    }
    Ok(rows)
}
