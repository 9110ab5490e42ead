//! The bridge to the host page's `window.Palaver`, which the loader defines: DOM events on
//! the host element. The loader sends `palaver:command` events (`{name, args}`) once the
//! widget has announced itself with `ready`; the widget reports with `palaver:event`
//! (`{name, data}`), which the loader hands to the page's `Palaver.on(name, fn)` handlers.
//!
//! One exchange goes both ways: on a persistent channel the widget emits `identityNeeded`
//! when it needs a (fresh) identity token, and the loader answers with `identify` (the token
//! from the page's identity provider) or `identifyFailed` (why the provider gave none).

use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CustomEvent, CustomEventInit, Element};

/// A command from the host page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open,
    Close,
    Toggle,
    SetRegarding(Option<String>),
    Reset,
    /// A persistent channel's identity token (a JWT the host site signed).
    Identify(String),
    /// The page's identity provider failed; the text says why, for the visitor.
    IdentifyFailed(String),
}

impl Command {
    /// Reads a `palaver:command` event's detail; unknown commands are `None`.
    fn from_detail(detail: &JsValue) -> Option<Self> {
        let name = js_sys::Reflect::get(detail, &"name".into())
            .ok()?
            .as_string()?;
        let first = js_sys::Reflect::get(detail, &"args".into())
            .ok()
            .filter(|args| args.is_object())
            .map(|args| js_sys::Array::from(&args).get(0));
        Some(match name.as_str() {
            "open" => Self::Open,
            "close" => Self::Close,
            "toggle" => Self::Toggle,
            "reset" => Self::Reset,
            "identify" => Self::Identify(
                first
                    .and_then(|token| token.as_string())
                    .map(|token| token.trim().to_owned())
                    .filter(|token| !token.is_empty())?,
            ),
            "identifyFailed" => Self::IdentifyFailed(
                first
                    .and_then(|text| text.as_string())
                    .map(|text| text.trim().to_owned())
                    .unwrap_or_default(),
            ),
            "setRegarding" => Self::SetRegarding(
                first
                    .and_then(|text| text.as_string())
                    .map(|text| text.trim().to_owned())
                    .filter(|text| !text.is_empty()),
            ),
            _ => return None,
        })
    }
}

/// The host element, when the widget runs inside the loader's (tests mount without one).
#[derive(Debug, Clone, Default)]
pub struct Bridge {
    host: Option<Element>,
}

impl Bridge {
    pub fn new(host: Option<Element>) -> Self {
        Self { host }
    }

    /// Tells the host page that something happened.
    pub fn emit(&self, name: &str, data: &impl Serialize) {
        let Some(host) = &self.host else {
            return;
        };
        let data = serde_json::to_string(data)
            .ok()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .unwrap_or(JsValue::NULL);
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"name".into(), &name.into());
        let _ = js_sys::Reflect::set(&detail, &"data".into(), &data);
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict("palaver:event", &init) {
            let _ = host.dispatch_event(&event);
        }
    }

    /// Listens for the host page's commands for the rest of the page's life, then announces
    /// `ready` so the loader sends what it has buffered.
    pub fn listen(&self, mut on_command: impl FnMut(Command) + 'static) {
        let Some(host) = &self.host else {
            return;
        };
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Some(event) = event.dyn_ref::<CustomEvent>() else {
                return;
            };
            if let Some(command) = Command::from_detail(&event.detail()) {
                on_command(command);
            }
        });
        if host
            .add_event_listener_with_callback("palaver:command", listener.as_ref().unchecked_ref())
            .is_ok()
        {
            // The widget lives as long as the page: the listener is never removed.
            listener.forget();
            self.emit("ready", &());
        }
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn detail(json: &str) -> JsValue {
        js_sys::JSON::parse(json).expect("valid JSON")
    }

    #[wasm_bindgen_test]
    fn commands_are_read_from_the_event_detail() {
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"open","args":[]}"#)),
            Some(Command::Open)
        );
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"setRegarding","args":[" Order #7 "]}"#)),
            Some(Command::SetRegarding(Some("Order #7".into())))
        );
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"setRegarding","args":[null]}"#)),
            Some(Command::SetRegarding(None))
        );
        assert_eq!(Command::from_detail(&detail(r#"{"name":"explode"}"#)), None);
    }

    #[wasm_bindgen_test]
    fn an_identity_token_and_a_providers_failure_are_read_from_the_event_detail() {
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"identify","args":[" a.b.c "]}"#)),
            Some(Command::Identify("a.b.c".into()))
        );
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"identify","args":[""]}"#)),
            None,
            "an empty token is no identity"
        );
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"identify","args":[42]}"#)),
            None
        );
        assert_eq!(
            Command::from_detail(&detail(
                r#"{"name":"identifyFailed","args":["HTTP 403 from /me/token"]}"#
            )),
            Some(Command::IdentifyFailed("HTTP 403 from /me/token".into()))
        );
        assert_eq!(
            Command::from_detail(&detail(r#"{"name":"identifyFailed","args":[]}"#)),
            Some(Command::IdentifyFailed(String::new()))
        );
    }
}
