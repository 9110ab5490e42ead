//! The components, each through the mounted app: launcher, panel, details form, message
//! list, composer, notices and sign-in.

use palaver_widget::WidgetConfig;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

use crate::support::{Mounted, SERVER, by_testid};

/// Mounts the app, without the loader's bridge, into a fresh node and returns that node.
fn mount_app() -> HtmlElement {
    Mounted::bare(WidgetConfig::new("demo", SERVER))
}

#[wasm_bindgen_test]
async fn the_launcher_opens_and_closes_the_panel() {
    let node = mount_app();
    let launcher = by_testid(&node, "launcher");
    let panel = by_testid(&node, "panel");
    assert!(panel.hidden(), "the panel starts closed");

    launcher.click();
    leptos::task::tick().await;
    assert!(!panel.hidden(), "a click on the launcher opens the panel");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );

    launcher.click();
    leptos::task::tick().await;
    assert!(panel.hidden(), "a second click closes it");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    node.remove();
}

#[wasm_bindgen_test]
async fn the_panels_close_button_closes_it_and_resets_the_launcher() {
    let node = mount_app();
    let launcher = by_testid(&node, "launcher");
    launcher.click();
    leptos::task::tick().await;

    by_testid(&node, "panel-close").click();
    leptos::task::tick().await;
    assert!(by_testid(&node, "panel").hidden());
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    node.remove();
}
