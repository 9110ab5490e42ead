//! The widget's entry point: wasm-bindgen runs `main` as soon as the loader has initialised
//! the module, and `main` mounts the widget into the host element the loader created.

fn main() {
    console_error_panic_hook::set_once();
    palaver_widget::mount();
}
