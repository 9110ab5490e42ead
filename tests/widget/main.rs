//! The widget's browser tests, through its public API only: the app mounted as the loader
//! mounts it, against a fake server inside the page (REST answers and the event stream).
//! One binary, run in headless Chromium:
//! `cargo test -p palaver-widget --target wasm32-unknown-unknown`.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod components;
mod live;
mod mount;
mod persistent;
mod support;
