//! Browser end-to-end tests: the real server on port 0 with a fresh database, the built widget
//! and the demo page, driven in headless Chromium through Debian's chromedriver.
//!
//! They need the widget built into `dist/` (or `PALAVER_WIDGET_DIR`) and Chromium with its
//! driver installed; `cargo xtask test` does both, then runs them.

mod helpers;

use fantoccini::Locator;

use crate::helpers::{TestApp, wait_for};

#[tokio::test]
async fn the_demo_page_shows_the_launcher_which_opens_the_chat_panel() {
    let app = TestApp::spawn().await;
    app.browse(async |browser| {
        browser.goto(&app.url("/")).await?;

        // The loader creates the host element; the widget renders inside its shadow root.
        let launcher = wait_for("the launcher inside the widget's shadow root", async || {
            let host = browser.find(Locator::Id("palaver-widget")).await.ok()?;
            let shadow = host.shadow_root().await.ok()?;
            shadow
                .find(Locator::Css("[data-testid=launcher]"))
                .await
                .ok()
        })
        .await?;
        anyhow::ensure!(
            launcher.attr("aria-label").await?.as_deref() == Some("Chat with us"),
            "the launcher has its accessible label"
        );
        anyhow::ensure!(
            launcher.attr("aria-expanded").await?.as_deref() == Some("false"),
            "the chat starts closed"
        );

        launcher.click().await?;
        wait_for("the panel to open", async || {
            let host = browser.find(Locator::Id("palaver-widget")).await.ok()?;
            let panel = host
                .shadow_root()
                .await
                .ok()?
                .find(Locator::Css("[data-testid=panel]"))
                .await
                .ok()?;
            panel.is_displayed().await.ok()?.then_some(())
        })
        .await?;
        anyhow::ensure!(
            launcher.attr("aria-expanded").await?.as_deref() == Some("true"),
            "the launcher reports the open panel"
        );
        Ok(())
    })
    .await;
}
