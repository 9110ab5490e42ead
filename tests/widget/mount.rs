//! Mounting: the widget inside the shadow root the loader prepares.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, ShadowRootInit, ShadowRootMode};

use palaver_widget::{HOST_ID, ROOT_ID, mount};

#[wasm_bindgen_test]
async fn mount_renders_a_working_launcher_inside_the_loaders_shadow_root() {
    // Build the host exactly as loader/widget.js does.
    let document = leptos::prelude::document();
    let host = document.create_element("div").expect("create the host");
    host.set_id(HOST_ID);
    host.set_attribute("data-channel", "demo")
        .expect("set the channel");
    host.set_attribute("data-server", "http://127.0.0.1:8080")
        .expect("set the server");
    let shadow = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .expect("attach the shadow root");
    let container = document
        .create_element("div")
        .expect("create the container");
    container.set_id(ROOT_ID);
    shadow
        .append_child(&container)
        .expect("append the container");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&host)
        .expect("append the host");

    mount();
    leptos::task::tick().await;

    let launcher = shadow
        .query_selector("[data-testid=launcher]")
        .expect("a valid selector")
        .expect("the launcher is rendered inside the shadow root")
        .dyn_into::<HtmlElement>()
        .expect("the launcher is an HTML element");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );

    // Events must reach handlers inside the shadow root (Leptos' `delegation` feature,
    // which listens on the document, would break this).
    launcher.click();
    leptos::task::tick().await;
    let panel = shadow
        .get_element_by_id("palaver-panel")
        .expect("the panel is rendered inside the shadow root");
    assert!(!panel.has_attribute("hidden"), "the click opened the panel");
    host.remove();
}
