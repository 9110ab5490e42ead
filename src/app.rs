//! The root component: provides the widget's context once and composes the launcher and the
//! panel.

use leptos::prelude::*;

use crate::WidgetConfig;
use crate::components::launcher::Launcher;
use crate::components::panel::Panel;

/// The whole widget: a launcher button in the corner of the page and the chat panel it opens.
#[component]
pub fn App(
    /// The settings from the embed tag; every component below reads them with
    /// `expect_context::<WidgetConfig>()`.
    config: WidgetConfig,
) -> impl IntoView {
    provide_context(config);
    let open = RwSignal::new(false);
    view! {
        <div class="palaver">
            <Panel open=open />
            <Launcher open=open />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;
    use web_sys::HtmlElement;

    use super::App;
    use crate::WidgetConfig;

    /// Mounts the app into a fresh node and returns that node.
    fn mount_app() -> HtmlElement {
        let node = document()
            .create_element("div")
            .expect("create a node")
            .dyn_into::<HtmlElement>()
            .expect("a div is an HTML element");
        document()
            .body()
            .expect("the test page has a body")
            .append_child(&node)
            .expect("append");
        let config = WidgetConfig {
            channel: "demo".into(),
            server: "http://127.0.0.1:8080".into(),
        };
        leptos::mount::mount_to(node.clone(), move || view! { <App config/> }).forget();
        node
    }

    fn by_testid(node: &HtmlElement, testid: &str) -> HtmlElement {
        node.query_selector(&format!("[data-testid={testid}]"))
            .expect("a valid selector")
            .unwrap_or_else(|| panic!("no element with data-testid={testid}"))
            .dyn_into::<HtmlElement>()
            .expect("an HTML element")
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
}
