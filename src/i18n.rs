//! The widget's own words, in each language it speaks (`data-language`). What people type is
//! never translated; server messages (errors, system notes) come in the server's words.

use palaver_client::Link;
use palaver_protocol::EndReason;

use crate::config::Language;

/// Every sentence the widget shows; one constant per language.
#[derive(Debug)]
pub struct Texts {
    /// The language's BCP 47 tag, for dates.
    pub tag: &'static str,
    pub launcher_label: &'static str,
    pub title: &'static str,
    pub close: &'static str,
    pub greeting: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub email_optional: &'static str,
    pub start: &'static str,
    pub starting: &'static str,
    pub start_again_as: &'static str,
    pub use_other_details: &'static str,
    pub closed_now: &'static str,
    pub message_placeholder: &'static str,
    pub send: &'static str,
    pub end_chat: &'static str,
    pub new_chat: &'static str,
    pub load_older: &'static str,
    pub sending: &'static str,
    pub not_sent: &'static str,
    pub you: &'static str,
    pub typing: &'static str,
    pub connecting: &'static str,
    pub online: &'static str,
    pub offline: &'static str,
    pub queue_position: &'static str,
    pub minutes: &'static str,
    pub under_a_minute: &'static str,
    pub ended_by_you: &'static str,
    pub ended_by_agent: &'static str,
    pub ended_expired: &'static str,
    pub ended_inactivity: &'static str,
    pub unread: &'static str,
    pub network_error: &'static str,
    pub sign_in_needed: &'static str,
    pub sign_in_hint: &'static str,
    pub identity_refused: &'static str,
    pub identity_provider_failed: &'static str,
    pub sign_in_expired: &'static str,
    pub welcome: &'static str,
    pub conversation_closed: &'static str,
    pub away: &'static str,
    pub away_until: &'static str,
}

const ENGLISH: Texts = Texts {
    tag: "en",
    launcher_label: "Chat with us",
    title: "Chat with us",
    close: "Close chat",
    greeting: "Hi there! Leave your details and an agent will answer here.",
    name: "Name",
    phone: "Contact number",
    email: "Email",
    email_optional: "Email (optional)",
    start: "Start chat",
    starting: "Starting…",
    start_again_as: "Start a new chat as",
    use_other_details: "Use other details",
    closed_now: "No agent is available right now.",
    message_placeholder: "Write a message…",
    send: "Send",
    end_chat: "End chat",
    new_chat: "Start a new chat",
    load_older: "Show earlier messages",
    sending: "Sending…",
    not_sent: "Not sent",
    you: "You",
    typing: "is typing…",
    connecting: "Connecting…",
    online: "Connected",
    offline: "Offline: messages will be sent when the connection returns",
    queue_position: "You are number {position} in the queue. Estimated wait: {wait}.",
    minutes: "{n} min",
    under_a_minute: "under a minute",
    ended_by_you: "You ended this chat.",
    ended_by_agent: "The agent ended this chat.",
    ended_expired: "Your previous chat has ended: chats stay open for 24 hours.",
    ended_inactivity: "Your previous chat was closed after a while without messages.",
    unread: "unread messages",
    network_error: "We couldn't reach the chat service. Please try again.",
    sign_in_needed: "Sign in to chat with us.",
    sign_in_hint: "Once you are signed in, your conversation with us shows here, on any device.",
    identity_refused: "We couldn't confirm who you are.",
    identity_provider_failed: "The site could not sign you in to the chat.",
    sign_in_expired: "Your sign-in has expired. Reload the page to keep chatting; \
        your unsent messages are kept.",
    welcome: "Hi! Write your message below and we'll answer here.",
    conversation_closed: "This conversation was closed. Write below to start a new one.",
    away: "Our agents are away right now. Write anyway: we'll reply when we're back.",
    away_until: "Our agents are away until {when}. Write anyway: we'll reply when we're back.",
};

const FRENCH: Texts = Texts {
    tag: "fr",
    launcher_label: "Discuter avec nous",
    title: "Discuter avec nous",
    close: "Fermer la discussion",
    greeting: "Bonjour ! Laissez vos coordonnées et un conseiller vous répondra ici.",
    name: "Nom",
    phone: "Numéro de téléphone",
    email: "E-mail",
    email_optional: "E-mail (facultatif)",
    start: "Commencer",
    starting: "Connexion…",
    start_again_as: "Nouvelle discussion en tant que",
    use_other_details: "Utiliser d'autres coordonnées",
    closed_now: "Aucun conseiller n'est disponible pour le moment.",
    message_placeholder: "Écrivez un message…",
    send: "Envoyer",
    end_chat: "Terminer",
    new_chat: "Nouvelle discussion",
    load_older: "Afficher les messages précédents",
    sending: "Envoi…",
    not_sent: "Non envoyé",
    you: "Vous",
    typing: "écrit…",
    connecting: "Connexion…",
    online: "Connecté",
    offline: "Hors ligne : vos messages partiront au retour de la connexion",
    queue_position: "Vous êtes n° {position} dans la file. Attente estimée : {wait}.",
    minutes: "{n} min",
    under_a_minute: "moins d'une minute",
    ended_by_you: "Vous avez terminé cette discussion.",
    ended_by_agent: "Le conseiller a terminé cette discussion.",
    ended_expired: "Votre discussion précédente est terminée : elles restent ouvertes 24 heures.",
    ended_inactivity: "Votre discussion précédente a été fermée faute de messages.",
    unread: "messages non lus",
    network_error: "Le service de discussion est injoignable. Veuillez réessayer.",
    sign_in_needed: "Connectez-vous pour discuter avec nous.",
    sign_in_hint: "Après connexion, votre conversation avec nous s'affiche ici, \
        sur tous vos appareils.",
    identity_refused: "Nous n'avons pas pu confirmer votre identité.",
    identity_provider_failed: "Le site n'a pas pu vous connecter à la discussion.",
    sign_in_expired: "Votre session a expiré. Rechargez la page pour continuer ; \
        vos messages non envoyés sont conservés.",
    welcome: "Bonjour ! Écrivez votre message ci-dessous, nous vous répondrons ici.",
    conversation_closed: "Cette conversation est terminée. \
        Écrivez ci-dessous pour en commencer une nouvelle.",
    away: "Nos conseillers sont absents pour le moment. \
        Écrivez-nous quand même : nous vous répondrons à leur retour.",
    away_until: "Nos conseillers sont absents jusqu'à {when}. \
        Écrivez-nous quand même : nous vous répondrons à leur retour.",
};

impl Texts {
    pub fn for_language(language: Language) -> &'static Texts {
        match language {
            Language::English => &ENGLISH,
            Language::French => &FRENCH,
        }
    }

    /// The event stream's state, as the visitor reads it.
    pub fn link(&self, link: Link) -> &'static str {
        match link {
            Link::Connecting => self.connecting,
            Link::Online => self.online,
            Link::Offline => self.offline,
        }
    }

    /// Why a chat is over, as the visitor reads it.
    pub fn ended(&self, reason: EndReason) -> &'static str {
        match reason {
            EndReason::Visitor => self.ended_by_you,
            EndReason::Agent => self.ended_by_agent,
            EndReason::Expired => self.ended_expired,
            EndReason::Inactivity => self.ended_inactivity,
        }
    }

    /// Why the visitor is not signed in to a persistent channel: the lead-in, then the
    /// server's or the site's own words.
    pub fn identity_error(&self, detail: &str) -> String {
        match detail.trim() {
            "" => self.identity_refused.to_owned(),
            detail => format!("{} {detail}", self.identity_refused),
        }
    }

    /// That agents are away, and until when if the channel says (`next_open_ms`, milliseconds
    /// since the epoch, shown as the visitor's local weekday and time).
    pub fn away(&self, next_open_ms: Option<f64>) -> String {
        let Some(ms) = next_open_ms else {
            return self.away.to_owned();
        };
        let options = js_sys::Object::new();
        for (name, value) in [
            ("weekday", "long"),
            ("hour", "numeric"),
            ("minute", "2-digit"),
        ] {
            let _ = js_sys::Reflect::set(&options, &name.into(), &value.into());
        }
        let when = js_sys::Date::new(&ms.into()).to_locale_string(self.tag, &options);
        self.away_until.replace("{when}", &String::from(when))
    }

    /// "You are number 2 in the queue. Estimated wait: 4 min."
    pub fn queue(&self, position: u32, wait_seconds: u64) -> String {
        let wait = if wait_seconds < 60 {
            self.under_a_minute.to_owned()
        } else {
            self.minutes
                .replace("{n}", &wait_seconds.div_ceil(60).to_string())
        };
        self.queue_position
            .replace("{position}", &position.to_string())
            .replace("{wait}", &wait)
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_queue_sentence_rounds_the_wait_up_to_whole_minutes() {
        let texts = Texts::for_language(Language::English);
        assert_eq!(
            texts.queue(2, 130),
            "You are number 2 in the queue. Estimated wait: 3 min."
        );
        assert_eq!(
            texts.queue(1, 20),
            "You are number 1 in the queue. Estimated wait: under a minute."
        );
    }

    #[wasm_bindgen_test]
    fn a_refused_identity_reads_as_the_lead_in_then_the_reason() {
        let texts = Texts::for_language(Language::English);
        assert_eq!(
            texts.identity_error("The identity token has expired."),
            "We couldn't confirm who you are. The identity token has expired."
        );
        assert_eq!(
            texts.identity_error(" "),
            "We couldn't confirm who you are."
        );
    }

    #[wasm_bindgen_test]
    fn the_away_notice_names_when_agents_are_back_in_the_visitors_language() {
        let texts = Texts::for_language(Language::French);
        assert_eq!(texts.away(None), texts.away);
        // A Monday, whatever the test machine's time zone.
        let monday_noon_utc = 1_700_481_600_000.0;
        let notice = texts.away(Some(monday_noon_utc));
        assert!(
            notice.starts_with("Nos conseillers sont absents jusqu'à lundi "),
            "{notice}"
        );
    }
}
