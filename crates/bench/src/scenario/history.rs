//! History paging: reading a long session back a page at a time, as a visitor scrolls up.

use std::{path::Path, time::Instant};

use anyhow::{Result, ensure};

use crate::{
    report::Row,
    scenario::Server,
    stats::{Samples, ms},
};

const MESSAGES: [usize; 2] = [1000, 10_000];
/// Pages timed for each figure, one at a time.
const SAMPLES: usize = 200;
/// The server's default page size, which the widget reads.
const PAGE: usize = 50;

pub async fn run(binary: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for count in MESSAGES {
        let (server, visitor) =
            Server::start(binary, async |seeder| seeder.conversation(count).await).await?;
        let mut pages = Samples::default();
        for n in 0..SAMPLES {
            // From the newest page back to the oldest, then again from the newest.
            let before = (count - (n * PAGE) % count + 1) as i64;
            let began = Instant::now();
            let page = server.api.history_page(&visitor, before).await?;
            pages.push(began.elapsed());
            ensure!(!page.messages.is_empty(), "an empty page before {before}");
        }
        let size = format!("{}k messages", count / 1000);
        eprintln!("  {size}: p50 {} p99 {}", ms(pages.p50()), ms(pages.p99()));
        rows.push(Row::palaver(
            format!("history page, {size}: p50 / p99"),
            format!("{} / {}", ms(pages.p50()), ms(pages.p99())),
        ));
    }
    Ok(rows)
}
