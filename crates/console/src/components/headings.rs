//! A table's column headings, shared by the inbox and Chat History.

use leptos::prelude::*;

/// A table's column headings.
#[component]
pub fn Headings(
    /// The headings, left to right.
    names: &'static [&'static str],
) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {names
                    .iter()
                    .map(|name| view! { <th scope="col">{*name}</th> })
                    .collect_view()}
            </tr>
        </thead>
    }
}
