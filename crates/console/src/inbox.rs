//! The inbox's rules, apart from how it looks: the filters the agent chose, the query they
//! send to the server, the same filters applied to a session that changes live, and where a
//! changed session goes in the list.

use palaver_protocol::{AgentSession, ChannelMode, SessionState, limits::PAGE_MAX};
use uuid::Uuid;

/// Sessions per inbox load: the most the server gives at once.
pub const LIMIT: u32 = PAGE_MAX;

/// Whose sessions the inbox shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AgentChoice {
    #[default]
    Anyone,
    /// The signed-in agent's.
    Me,
    /// Sessions nobody has joined.
    Unassigned,
    Agent(Uuid),
}

impl AgentChoice {
    /// From the filter's `<select>` value: `""`, `me`, `none` or an agent's id.
    pub fn from_value(value: &str) -> Self {
        match value {
            "me" => Self::Me,
            "none" => Self::Unassigned,
            other => Uuid::parse_str(other).map_or(Self::Anyone, Self::Agent),
        }
    }
}

/// The inbox filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub state: Option<SessionState>,
    /// A channel's id (*Configuration*).
    pub channel: Option<String>,
    pub agent: AgentChoice,
    /// Part of the contact's name, number or user id.
    pub search: String,
}

impl Filters {
    /// The query of `GET /agent/sessions` for these filters, as seen by agent `me`.
    pub fn query(&self, me: Uuid) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(state) = self.state {
            pairs.push(("state", state_name(state).to_owned()));
        }
        if let Some(channel) = &self.channel {
            pairs.push(("channel", channel.clone()));
        }
        match self.agent {
            AgentChoice::Anyone => {}
            AgentChoice::Me => pairs.push(("agent", me.to_string())),
            AgentChoice::Unassigned => pairs.push(("agent", "none".to_owned())),
            AgentChoice::Agent(id) => pairs.push(("agent", id.to_string())),
        }
        let search = self.search.trim();
        if !search.is_empty() {
            pairs.push(("q", search.to_owned()));
        }
        pairs.push(("limit", LIMIT.to_string()));
        pairs
    }

    /// Whether the server would list `row` under these filters: a live change keeps the
    /// inbox as a fresh load would show it. The search matches any part of the name, phone
    /// number or user id, ignoring case, as the server's does.
    pub fn matches(&self, row: &AgentSession, me: Uuid) -> bool {
        let session = &row.session;
        let holder = session.agent.as_ref().map(|agent| agent.id);
        let agent_matches = match self.agent {
            AgentChoice::Anyone => true,
            AgentChoice::Me => holder == Some(me),
            AgentChoice::Unassigned => holder.is_none(),
            AgentChoice::Agent(id) => holder == Some(id),
        };
        let search = self.search.trim().to_lowercase();
        let search_matches = search.is_empty()
            || [
                Some(&row.to.name),
                row.to.phone.as_ref(),
                row.to.user_id.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|text| text.to_lowercase().contains(&search));
        self.state.is_none_or(|state| session.state == state)
            && self
                .channel
                .as_ref()
                .is_none_or(|channel| *channel == session.channel)
            && agent_matches
            && search_matches
    }
}

/// Puts a session that started or changed into the inbox: in place when listed already, at
/// its place by start time (newest first) when new, and out when it no longer `belongs`.
pub fn place(rows: &mut Vec<AgentSession>, row: AgentSession, belongs: bool) {
    let id = row.session.id;
    let at = rows.iter().position(|held| held.session.id == id);
    match (at, belongs) {
        (Some(at), true) => rows[at] = row,
        (Some(at), false) => {
            rows.remove(at);
        }
        (None, true) => {
            let before = rows
                .iter()
                .position(|held| held.session.started_at <= row.session.started_at)
                .unwrap_or(rows.len());
            rows.insert(before, row);
        }
        (None, false) => {}
    }
}

/// A live change to the inbox, kept while a load is under way.
pub enum InboxChange {
    Session(Box<AgentSession>),
    Seq(Uuid, i64),
}

/// A state as the API and the console name it.
pub fn state_name(state: SessionState) -> &'static str {
    match state {
        SessionState::Queued => "queued",
        SessionState::Active => "active",
        SessionState::Waiting => "waiting",
        SessionState::Ended => "ended",
    }
}

/// The `<select>` value's state; `None` for all.
pub fn state_from_name(name: &str) -> Option<SessionState> {
    STATES.into_iter().find(|&state| state_name(state) == name)
}

/// Every state, in the order a session goes through them.
pub const STATES: [SessionState; 4] = [
    SessionState::Queued,
    SessionState::Active,
    SessionState::Waiting,
    SessionState::Ended,
];

pub fn mode_name(mode: ChannelMode) -> &'static str {
    match mode {
        ChannelMode::Live => "live",
        ChannelMode::Persistent => "persistent",
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::AgentRef;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::test_support::row;

    fn held_by(mut row: AgentSession, agent: Uuid) -> AgentSession {
        row.session.state = SessionState::Active;
        row.session.agent = Some(AgentRef {
            id: agent,
            name: "Grace".into(),
        });
        row
    }

    #[wasm_bindgen_test]
    fn the_agent_filter_tells_mine_unassigned_and_anothers_apart() {
        let me = Uuid::new_v4();
        let other = Uuid::new_v4();
        let queued = row(0);
        let mine = held_by(row(1), me);
        let theirs = held_by(row(2), other);
        let shown = |agent| {
            let filters = Filters {
                agent,
                ..Filters::default()
            };
            [&queued, &mine, &theirs].map(|row| filters.matches(row, me))
        };
        assert_eq!(shown(AgentChoice::Anyone), [true, true, true]);
        assert_eq!(shown(AgentChoice::Me), [false, true, false]);
        assert_eq!(shown(AgentChoice::Unassigned), [true, false, false]);
        assert_eq!(shown(AgentChoice::Agent(other)), [false, false, true]);
    }

    #[wasm_bindgen_test]
    fn state_and_configuration_must_both_match() {
        let me = Uuid::new_v4();
        let filters = Filters {
            state: Some(SessionState::Queued),
            channel: Some("demo".into()),
            ..Filters::default()
        };
        let mut elsewhere = row(0);
        elsewhere.session.channel = "members".into();
        assert!(filters.matches(&row(0), me));
        assert!(!filters.matches(&held_by(row(0), me), me), "now active");
        assert!(!filters.matches(&elsewhere, me));
    }

    #[wasm_bindgen_test]
    fn the_search_finds_part_of_a_name_or_number_ignoring_case() {
        let me = Uuid::new_v4();
        let search = |text: &str| Filters {
            search: text.into(),
            ..Filters::default()
        };
        let mut signed_in = row(0);
        signed_in.to.phone = None;
        signed_in.to.user_id = Some("USER-42".into());
        assert!(search("lovel").matches(&row(0), me));
        assert!(search("  ADA ").matches(&row(0), me));
        assert!(search("7946").matches(&row(0), me));
        assert!(search("user-4").matches(&signed_in, me));
        assert!(!search("grace").matches(&row(0), me));
        assert!(!search("example.com").matches(&row(0), me), "not the email");
    }

    #[wasm_bindgen_test]
    fn the_query_names_every_filter() {
        let me = Uuid::new_v4();
        let filters = Filters {
            state: Some(SessionState::Waiting),
            channel: Some("demo".into()),
            agent: AgentChoice::Me,
            search: " +44 7 ".into(),
        };
        let text = |pairs: &[(&str, String)]| {
            pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(
            text(&filters.query(me)),
            format!("state=waiting&channel=demo&agent={me}&q=+44 7&limit=200")
        );
        let unassigned = Filters {
            agent: AgentChoice::Unassigned,
            ..Filters::default()
        };
        assert_eq!(text(&unassigned.query(me)), "agent=none&limit=200");
    }

    #[wasm_bindgen_test]
    fn select_values_name_each_agent_choice() {
        let id = Uuid::new_v4();
        assert_eq!(AgentChoice::from_value(""), AgentChoice::Anyone);
        assert_eq!(AgentChoice::from_value("me"), AgentChoice::Me);
        assert_eq!(AgentChoice::from_value("none"), AgentChoice::Unassigned);
        assert_eq!(
            AgentChoice::from_value(&id.to_string()),
            AgentChoice::Agent(id)
        );
        for state in STATES {
            assert_eq!(state_from_name(state_name(state)), Some(state));
        }
        assert_eq!(state_from_name(""), None);
    }

    #[wasm_bindgen_test]
    fn a_new_session_goes_on_top_a_changed_one_stays_in_place_and_a_mismatch_leaves() {
        let older = row(0);
        let newer = row(5);
        let mut rows = vec![newer.clone(), older.clone()];

        let newest = row(9);
        place(&mut rows, newest.clone(), true);
        let ids = |rows: &[AgentSession]| rows.iter().map(|row| row.session.id).collect::<Vec<_>>();
        assert_eq!(
            ids(&rows),
            [newest.session.id, newer.session.id, older.session.id]
        );

        let mut changed = newer.clone();
        changed.session.regarding = Some("Order 7".into());
        place(&mut rows, changed, true);
        assert_eq!(rows[1].session.regarding.as_deref(), Some("Order 7"));
        assert_eq!(rows.len(), 3);

        place(&mut rows, older.clone(), false);
        assert_eq!(ids(&rows), [newest.session.id, newer.session.id]);
        place(&mut rows, row(1), false);
        assert_eq!(rows.len(), 2, "a session that does not belong is not added");
    }
}
