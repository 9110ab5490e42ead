//! The check that a crate's modules import one way: no file uses a file that, directly or
//! through others, uses it back. Each `.rs` file under `src/` is one module (`mod.rs` is its
//! folder's); an import is a path in a `use` tree or in the code that starts at `crate::`,
//! `super::`, `self::` or one of the module's own children, resolved to the file that
//! defines it. Declaring a child (`mod x;`) or re-exporting what a descendant defines
//! (`pub use x::Item;`) is not an import, and neither is anything in a file's test module:
//! a file's tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A module path inside a crate, `["chat", "access"]` for `src/chat/access.rs`.
type ModulePath = Vec<String>;

/// The import circles among the library modules under `src`, each as the files in it and
/// the imports that tie them, one line each; empty when the modules import one way.
pub fn circles(src: &Path) -> Result<Vec<String>> {
    let mut files = BTreeMap::new();
    collect(src, src, &mut files)?;
    let sources = files
        .into_iter()
        .map(|(module, path)| {
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path.strip_prefix(src)?.display().to_string();
            Ok((module, Source { name, text }))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    Ok(find_circles(&sources))
}

/// One module file: its path under `src/`, for messages, and its text.
struct Source {
    name: String,
    text: String,
}

/// Every library module file under `dir` (the binary's `main.rs` is a crate of its own).
fn collect(src: &Path, dir: &Path, files: &mut BTreeMap<ModulePath, PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect(src, &path, files)?;
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") || path == src.join("main.rs")
        {
            continue;
        }
        let relative = path.strip_prefix(src)?.with_extension("");
        let mut module: ModulePath = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module
            .last()
            .is_some_and(|last| last == "mod" || last == "lib")
        {
            module.pop();
        }
        files.insert(module, path);
    }
    Ok(())
}

/// The circles among `sources`, as readable lines.
fn find_circles(sources: &BTreeMap<ModulePath, Source>) -> Vec<String> {
    let modules: BTreeSet<&ModulePath> = sources.keys().collect();
    let mut edges: BTreeMap<&ModulePath, BTreeSet<&ModulePath>> = BTreeMap::new();
    for (module, source) in sources {
        let targets = edges.entry(module).or_default();
        for path in imports(&modules, module, &source.text) {
            if let Some(target) = resolve(&modules, &path)
                && target != module
            {
                targets.insert(target);
            }
        }
    }
    strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let ties: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    edges[from]
                        .iter()
                        .filter(|to| component.contains(*to))
                        .map(move |to| format!("{} -> {}", sources[*from].name, sources[*to].name))
                })
                .collect();
            ties.join(", ")
        })
        .collect()
}

/// The module that defines what `path` names: its longest prefix that is a module file.
fn resolve<'a>(modules: &BTreeSet<&'a ModulePath>, path: &[String]) -> Option<&'a ModulePath> {
    (0..=path.len()).rev().find_map(|length| {
        let prefix = path.get(..length)?;
        modules
            .iter()
            .find(|module| module.as_slice() == prefix)
            .copied()
    })
}

/// The absolute module paths that `text`, the source of `module`, refers to.
fn imports(modules: &BTreeSet<&ModulePath>, module: &ModulePath, text: &str) -> Vec<ModulePath> {
    let code = without_tests(text);
    let tokens = tokenize(&code);
    let mut paths = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        if tokens[index] == "use" {
            let end = tokens[index..]
                .iter()
                .position(|token| token == ";")
                .map_or(tokens.len(), |offset| index + offset);
            let mut tree = Vec::new();
            expand(&tokens[index + 1..end], &[], &mut tree);
            // `pub use child::Item;` names a descendant's item from here; it is no import.
            let public = index > 0 && matches!(tokens[index - 1].as_str(), "pub" | ")");
            paths.extend(tree.into_iter().filter(|path| {
                !public
                    || absolute(modules, module, path)
                        .is_none_or(|target| !target.starts_with(module) || &target == module)
            }));
            index = end;
        } else if is_name(&tokens[index])
            && tokens.get(index + 1).is_some_and(|token| token == "::")
            && (index == 0 || tokens[index - 1] != "::")
        {
            let mut path = vec![tokens[index].clone()];
            index += 1;
            while tokens.get(index).is_some_and(|token| token == "::")
                && let Some(name) = tokens.get(index + 1).filter(|name| is_name(name))
            {
                path.push(name.clone());
                index += 2;
            }
            paths.push(path);
            continue;
        }
        index += 1;
    }
    paths
        .into_iter()
        .filter_map(|path| absolute(modules, module, &path))
        .collect()
}

/// The source without its comment lines and its test module (a `#[cfg(…test…)]` attribute
/// right before `mod … {`).
fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    let end = lines
        .windows(2)
        .position(|pair| {
            let (attribute, item) = (pair[0].trim(), pair[1].trim());
            attribute.starts_with("#[cfg(")
                && attribute.contains("test")
                && item.starts_with("mod ")
                && item.contains('{')
        })
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths, each after `prefix`.
fn expand(tokens: &[String], prefix: &[String], paths: &mut Vec<ModulePath>) {
    let mut path = prefix.to_vec();
    let mut index = 0;
    while index < tokens.len() {
        match tokens[index].as_str() {
            "{" => {
                let close = matching_brace(tokens, index);
                for item in split_top_level(&tokens[index + 1..close]) {
                    expand(item, &path, paths);
                }
                return;
            }
            "::" => {}
            "as" => break,
            name if is_name(name) || name == "*" => path.push(name.to_owned()),
            _ => {}
        }
        index += 1;
    }
    if path.len() > prefix.len() {
        paths.push(path);
    }
}

fn matching_brace(tokens: &[String], open: usize) -> usize {
    let mut depth = 0;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        match token.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return index;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The comma-separated items of a brace group, commas inside nested groups left alone.
fn split_top_level(tokens: &[String]) -> Vec<&[String]> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (index, token) in tokens.iter().enumerate() {
        match token.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                items.push(&tokens[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items
}

/// A path from the crate root, or `None` for one outside the crate (`std::…`, `axum::…`) or
/// not a module path at all (`Vec::new`, `Self::Item`).
fn absolute(
    modules: &BTreeSet<&ModulePath>,
    module: &ModulePath,
    path: &[String],
) -> Option<ModulePath> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => {
            let mut parent = module.clone();
            parent.pop()?;
            parent
        }
        child => {
            let mut child_path = module.clone();
            child_path.push(child.to_owned());
            if !modules.contains(&child_path) {
                return None;
            }
            child_path
        }
    };
    let mut rest = rest.iter().peekable();
    while rest.next_if(|name| name.as_str() == "super").is_some() {
        base.pop()?;
    }
    base.extend(
        rest.filter(|name| name.as_str() != "*" && name.as_str() != "self")
            .cloned(),
    );
    Some(base)
}

fn is_name(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
}

/// Identifiers, `::` and single punctuation; string and character literals are dropped,
/// so a path spelled inside a message is not an import.
fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c == 'r' && matches!(chars.peek(), Some('#' | '"')) {
            skip_raw_string(&mut chars);
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = c.to_string();
            while let Some(next) = chars.next_if(|next| next.is_alphanumeric() || *next == '_') {
                word.push(next);
            }
            tokens.push(word);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".to_owned());
        } else if c == '"' {
            let mut escaped = false;
            for next in chars.by_ref() {
                if next == '"' && !escaped {
                    break;
                }
                escaped = next == '\\' && !escaped;
            }
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// Skips a raw string literal (`r"…"`, `r#"…"#`) whose `r` was just read; code in such a
/// string (a page's script) is no import.
fn skip_raw_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut hashes = 0;
    while chars.next_if_eq(&'#').is_some() {
        hashes += 1;
    }
    if chars.next_if_eq(&'"').is_none() {
        return;
    }
    while let Some(c) = chars.next() {
        if c == '"' {
            let mut closing = 0;
            while closing < hashes && chars.next_if_eq(&'#').is_some() {
                closing += 1;
            }
            if closing == hashes {
                return;
            }
        }
    }
}

/// Tarjan's algorithm: the graph's strongly connected components, each a set of modules.
fn strongly_connected<'a>(
    edges: &BTreeMap<&'a ModulePath, BTreeSet<&'a ModulePath>>,
) -> Vec<BTreeSet<&'a ModulePath>> {
    struct Search<'a, 'e> {
        edges: &'e BTreeMap<&'a ModulePath, BTreeSet<&'a ModulePath>>,
        index: BTreeMap<&'a ModulePath, usize>,
        low: BTreeMap<&'a ModulePath, usize>,
        stack: Vec<&'a ModulePath>,
        on_stack: BTreeSet<&'a ModulePath>,
        components: Vec<BTreeSet<&'a ModulePath>>,
    }

    impl<'a> Search<'a, '_> {
        fn visit(&mut self, node: &'a ModulePath) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            self.on_stack.insert(node);
            for &next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.insert(member);
                    if member == node {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }

    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in edges.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.components
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::{ModulePath, Source, find_circles, imports};

    fn module(path: &str) -> ModulePath {
        path.split('/')
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn crate_of(files: &[(&str, &str)]) -> BTreeMap<ModulePath, Source> {
        files
            .iter()
            .map(|(path, text)| {
                let name = if path.is_empty() {
                    "lib.rs".to_owned()
                } else {
                    format!("{path}.rs")
                };
                let text = (*text).to_owned();
                (module(path), Source { name, text })
            })
            .collect()
    }

    #[test]
    fn nested_use_trees_expand_to_every_path() {
        let text =
            "use crate::{\n    chat::{access::Visitor, live as l},\n    state::AppState,\n};\n";
        let found = imports(&BTreeSet::new(), &module("http/visitor"), text);
        assert_eq!(
            found,
            vec![
                module("chat/access/Visitor"),
                module("chat/live"),
                module("state/AppState"),
            ]
        );
    }

    #[test]
    fn super_and_inline_paths_count_but_comments_strings_and_tests_do_not() {
        let text = "//! See crate::hub.\nuse super::error::ChatError;\nfn f() -> crate::store::Record { g(\"crate::clock\") }\n#[cfg(test)]\nmod tests { use crate::config::Channel; }\n";
        let found = imports(&BTreeSet::new(), &module("chat/live"), text);
        assert_eq!(
            found,
            vec![module("chat/error/ChatError"), module("store/Record")]
        );
    }

    #[test]
    fn paths_from_a_child_module_count_and_outside_crates_do_not() {
        let child = module("chat/identity");
        let modules = BTreeSet::from([&child]);
        let text = "use identity::SignIn;\nuse std::sync::Arc;\nfn f() { identity::refresh(); Vec::<u8>::new(); }";
        let found = imports(&modules, &module("chat"), text);
        assert_eq!(
            found,
            vec![
                module("chat/identity/SignIn"),
                module("chat/identity/refresh")
            ]
        );
    }

    #[test]
    fn a_parent_and_its_child_that_import_each_other_are_a_circle() {
        let files = crate_of(&[
            ("", "pub mod chat;"),
            (
                "chat",
                "mod identity;\nuse identity::SignIn;\npub struct Chat(SignIn);",
            ),
            (
                "chat/identity",
                "use crate::chat::Chat;\npub struct SignIn;",
            ),
        ]);
        assert_eq!(
            find_circles(&files),
            vec!["chat.rs -> chat/identity.rs, chat/identity.rs -> chat.rs".to_owned()]
        );
    }

    #[test]
    fn modules_that_import_one_way_have_no_circle() {
        let files = crate_of(&[
            (
                "",
                "pub mod chat;\npub mod state;\npub use state::AppState;",
            ),
            ("chat", "pub mod live;"),
            ("chat/live", "use crate::state::AppState;"),
            ("state", "use std::sync::Arc;"),
        ]);
        assert_eq!(find_circles(&files), Vec::<String>::new());
    }

    #[test]
    fn a_circle_through_three_files_is_named_with_its_imports() {
        let files = crate_of(&[
            ("", "pub mod a;\npub mod b;\npub mod c;"),
            ("a", "use crate::b::B;"),
            ("b", "use crate::c::{C, D};"),
            ("c", "pub fn f() -> crate::a::A { todo!() }"),
        ]);
        assert_eq!(
            find_circles(&files),
            vec!["a.rs -> b.rs, b.rs -> c.rs, c.rs -> a.rs".to_owned()]
        );
    }

    #[test]
    fn a_re_export_of_a_child_is_no_import() {
        let files = crate_of(&[
            ("", "mod error;\npub use error::Code;\npub struct Reason;"),
            ("error", "use crate::Reason;\npub struct Code(Reason);"),
        ]);
        assert_eq!(find_circles(&files), Vec::<String>::new());
    }

    #[test]
    fn paths_in_raw_strings_and_test_modules_are_no_imports() {
        let error = "const PAGE: &str = r#\"use crate::Reason; \"quoted\" \"#;\npub struct Code;\n#[cfg(all(test, target_arch = \"wasm32\"))]\nmod tests {\n    use crate::Reason;\n}";
        let files = crate_of(&[
            ("", "mod error;\nuse error::Code;\npub struct Reason(Code);"),
            ("error", error),
        ]);
        assert_eq!(find_circles(&files), Vec::<String>::new());
    }
}
