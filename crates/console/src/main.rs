//! The console's entry point: wasm-bindgen runs `main` once the page has loaded the module,
//! and `main` mounts the console into the page's body.

fn main() {
    console_error_panic_hook::set_once();
    palaver_console::mount();
}
