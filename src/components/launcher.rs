//! The launcher: the round button in the corner of the page that opens and closes the chat.

use leptos::prelude::*;

/// The button that toggles the chat panel. It carries a constant accessible label and tells
/// assistive technology whether the panel is open through `aria-expanded`.
#[component]
pub fn Launcher(
    /// Whether the chat panel is open; a click flips it.
    open: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="launcher"
            data-testid="launcher"
            aria-label="Chat with us"
            aria-controls="palaver-panel"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|open| *open = !*open)
        >
            <Show
                when=move || open.get()
                fallback=|| {
                    view! {
                        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                            <path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
                        </svg>
                    }
                }
            >
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M6 6l12 12M18 6L6 18" />
                </svg>
            </Show>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;
    use web_sys::HtmlElement;

    use super::Launcher;

    #[wasm_bindgen_test]
    async fn renders_with_its_label_and_toggles_aria_expanded_on_click() {
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
        let open = RwSignal::new(false);
        leptos::mount::mount_to(node.clone(), move || view! { <Launcher open /> }).forget();

        let launcher = node
            .query_selector("[data-testid=launcher]")
            .expect("a valid selector")
            .expect("the launcher is rendered")
            .dyn_into::<HtmlElement>()
            .expect("the launcher is an HTML element");
        assert_eq!(
            launcher.get_attribute("aria-label").as_deref(),
            Some("Chat with us")
        );
        assert_eq!(
            launcher.get_attribute("aria-expanded").as_deref(),
            Some("false")
        );

        launcher.click();
        leptos::task::tick().await;
        assert!(open.get_untracked());
        assert_eq!(
            launcher.get_attribute("aria-expanded").as_deref(),
            Some("true")
        );
        node.remove();
    }
}
