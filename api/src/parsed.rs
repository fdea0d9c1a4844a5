//! Documents parsed once: the documents a replica has parsed recently, kept by their text, so a
//! client that sends the same document again (a front end's page, an integrator's poll) does not
//! have it scanned, parsed and counted again. Every request still gets its own copy of the
//! document to run, and everything that depends on the request's variables or operation name —
//! the limits and the variables' checks — still runs on each request. Validation runs on each
//! request too, except for an operation and variables the document has passed it with before
//! (kept with the document, at most [`VALIDATED`] pairs, not counted in its weight: about 1 MiB
//! for a full cache).
//!
//! Only a document that passed the text scan, parsed and held no more than
//! [`MAX_DOCUMENT_NODES`](crate::limits::MAX_DOCUMENT_NODES) nodes is kept; a refused one is
//! refused again in full on its next try. The cache is per agency, as APQ's is: how fast a
//! document is answered tells no client whether another agency's clients ran it. It is bounded
//! in entries ([`ENTRIES`]) and in weight ([`WEIGHT`]: each document's bytes of text plus
//! [`NODE_WEIGHT`] for each of its nodes — fields, arguments, directives, variables and every
//! value written in them, each item of a list and entry of an object included — at least what
//! each takes parsed); the least recently used go first, and a text longer than [`LONGEST`] is
//! never kept.

use std::{
    hash::{BuildHasher, RandomState},
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::parser::types::ExecutableDocument;

/// Documents one replica keeps parsed at most.
pub const ENTRIES: usize = 1_000;
/// The weight of the documents one replica keeps parsed: about the bytes they take.
pub const WEIGHT: usize = 16 << 20;
/// The weight of one node of a parsed document (a field, argument, directive, value…).
pub const NODE_WEIGHT: usize = 256;
/// Longest document text kept parsed.
pub const LONGEST: usize = 64 << 10;

/// A document as parsed, with what is learnt of it from its text alone.
#[derive(Debug)]
pub struct Parsed {
    agency: Box<str>,
    text: Box<str>,
    nodes: usize,
    /// The document; each request runs a copy of it.
    pub document: Arc<ExecutableDocument>,
    /// The name of its only operation, when it has exactly one named operation.
    pub sole_operation: Option<String>,
    /// The operations and variables (hashed, see [`ParsedDocuments::validation`]) the document
    /// has passed async-graphql's strict validation with: at most [`VALIDATED`].
    validated: Mutex<std::collections::HashSet<u64>>,
}

/// Operation-and-variables pairs one document keeps as validated at most.
pub const VALIDATED: usize = 64;

impl Parsed {
    /// Whether the document passed strict validation with the operation and variables of
    /// `validation` before.
    pub fn validated(&self, validation: u64) -> bool {
        self.validated.lock().is_ok_and(|set| set.contains(&validation))
    }

    /// Records that the document passed strict validation with `validation`'s operation and
    /// variables (the request ran: it was not refused before execution).
    pub fn passed(&self, validation: u64) {
        if let Ok(mut set) = self.validated.lock() {
            // Full (a list paged with cursors, a search with new terms): start again, so the
            // pairs that come back are kept rather than the first ones.
            if set.len() >= VALIDATED {
                set.clear();
            }
            set.insert(validation);
        }
    }
}

impl Parsed {
    fn weight(&self) -> usize {
        self.agency.len() + self.text.len() + self.nodes * NODE_WEIGHT
    }
}

/// The parsed documents of a replica.
pub struct ParsedDocuments {
    hasher: RandomState,
    cache: Mutex<Cache>,
}

struct Cache {
    /// Keyed by a hash of the agency and the text; the entry holds both, compared on each hit.
    entries: lru::LruCache<u64, Arc<Parsed>>,
    weight: usize,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        let entries = lru::LruCache::new(NonZeroUsize::new(ENTRIES).unwrap_or(NonZeroUsize::MIN));
        Self { hasher: RandomState::new(), cache: Mutex::new(Cache { entries, weight: 0 }) }
    }
}

impl std::fmt::Debug for ParsedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedDocuments").finish_non_exhaustive()
    }
}

impl ParsedDocuments {
    fn key(&self, agency: &str, text: &str) -> u64 {
        self.hasher.hash_one((agency, text))
    }

    /// The document `agency`'s clients sent as `text`, if this replica keeps it parsed.
    pub fn get(&self, agency: &str, text: &str) -> Option<Arc<Parsed>> {
        let key = self.key(agency, text);
        let mut cache = self.cache.lock().ok()?;
        let parsed = cache.entries.get(&key)?;
        (*parsed.agency == *agency && *parsed.text == *text).then(|| parsed.clone())
    }

    /// Keeps `document`, parsed from `text` for one of `agency`'s clients (not when the text is
    /// longer than [`LONGEST`]), and returns it as kept.
    pub fn keep(&self, agency: &str, text: &str, document: ExecutableDocument) -> Arc<Parsed> {
        let sole_operation = crate::limits::sole_operation_name(&document);
        let parsed = Arc::new(Parsed {
            agency: agency.into(),
            text: text.into(),
            nodes: crate::limits::document_nodes(&document) + values(&document),
            document: Arc::new(document),
            sole_operation,
            validated: Default::default(),
        });
        if text.len() > LONGEST {
            return parsed;
        }
        let key = self.key(agency, text);
        let Ok(mut cache) = self.cache.lock() else { return parsed };
        cache.weight += parsed.weight();
        if let Some((_, replaced)) = cache.entries.push(key, parsed.clone()) {
            cache.weight -= replaced.weight();
        }
        while cache.weight > WEIGHT {
            match cache.entries.pop_lru() {
                Some((_, evicted)) => cache.weight -= evicted.weight(),
                None => break,
            }
        }
        parsed
    }

    /// What strict validation depends on besides the document: the operation's name and the
    /// variables (hashed with this process's random key; two requests alike in both are validated
    /// alike).
    /// `None` when the variables cannot be written as JSON (such a request is always validated).
    pub fn validation(&self, operation: Option<&str>, variables: &async_graphql::Variables) -> Option<u64> {
        use std::hash::{Hash, Hasher};
        /// Feeds what is written to a hasher.
        struct Feed<'a, H>(&'a mut H);
        impl<H: Hasher> std::io::Write for Feed<'_, H> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut hasher = self.hasher.build_hasher();
        operation.hash(&mut hasher);
        serde_json::to_writer(Feed(&mut hasher), variables).ok()?;
        Some(hasher.finish())
    }

    /// How many documents are kept, and their weight.
    pub fn size(&self) -> (usize, usize) {
        self.cache.lock().map(|cache| (cache.entries.len(), cache.weight)).unwrap_or_default()
    }
}

/// The values written in a document: each argument's and directive argument's value and each
/// variable's default, counting every item of a list and entry of an object (`[1 1 1 …]` is two
/// bytes of text a value; parsed, each takes tens of bytes).
fn values(doc: &ExecutableDocument) -> usize {
    use async_graphql::Positioned;
    use async_graphql::parser::types::{Directive, Selection, SelectionSet};
    use async_graphql_value::{ConstValue, Value};
    fn value(v: &Value) -> usize {
        1 + match v {
            Value::List(items) => items.iter().map(value).sum(),
            Value::Object(entries) => entries.values().map(value).sum(),
            _ => 0,
        }
    }
    fn constant(v: &ConstValue) -> usize {
        1 + match v {
            ConstValue::List(items) => items.iter().map(constant).sum(),
            ConstValue::Object(entries) => entries.values().map(constant).sum(),
            _ => 0,
        }
    }
    fn directives(list: &[Positioned<Directive>]) -> usize {
        list.iter().flat_map(|d| &d.node.arguments).map(|(_, v)| value(&v.node)).sum()
    }
    fn set(s: &SelectionSet) -> usize {
        s.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    f.node.arguments.iter().map(|(_, v)| value(&v.node)).sum::<usize>()
                        + directives(&f.node.directives)
                        + set(&f.node.selection_set.node)
                }
                Selection::FragmentSpread(s) => directives(&s.node.directives),
                Selection::InlineFragment(i) => {
                    directives(&i.node.directives) + set(&i.node.selection_set.node)
                }
            })
            .sum()
    }
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| {
            let defaults: usize = op
                .node
                .variable_definitions
                .iter()
                .filter_map(|d| d.node.default_value.as_ref())
                .map(|v| constant(&v.node))
                .sum();
            defaults + directives(&op.node.directives) + set(&op.node.selection_set.node)
        })
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| directives(&f.node.directives) + set(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).expect("parses")
    }

    #[test]
    fn a_document_is_kept_per_agency_and_text() {
        let documents = ParsedDocuments::default();
        let text = "query Mine { me { agency } }";
        assert!(documents.get("dinsos", text).is_none());
        let kept = documents.keep("dinsos", text, parse(text));
        assert_eq!(kept.sole_operation.as_deref(), Some("Mine"));
        let again = documents.get("dinsos", text).expect("kept");
        assert!(Arc::ptr_eq(&kept.document, &again.document));
        assert!(documents.get("disperindagkop", text).is_none(), "another agency's is its own");
        assert!(documents.get("dinsos", "query Mine { me { client } }").is_none());
        // `me`, `agency`, the operation's selection: 2 nodes.
        assert_eq!(documents.size(), (1, "dinsos".len() + text.len() + 2 * NODE_WEIGHT));
    }

    #[test]
    fn validation_is_kept_per_operation_and_variables() {
        let documents = ParsedDocuments::default();
        let text = "query A($n: Int) { a(n: $n) } query B { b }";
        let kept = documents.keep("dinsos", text, parse(text));
        let vars = |json: serde_json::Value| async_graphql::Variables::from_json(json);
        let a1 = documents.validation(Some("A"), &vars(serde_json::json!({ "n": 1 }))).expect("a key");
        assert_eq!(documents.validation(Some("A"), &vars(serde_json::json!({ "n": 1 }))), Some(a1));
        for other in [
            documents.validation(Some("A"), &vars(serde_json::json!({ "n": 2 }))),
            documents.validation(Some("A"), &vars(serde_json::json!({ "n": "1" }))),
            documents.validation(Some("B"), &vars(serde_json::json!({ "n": 1 }))),
            documents.validation(None, &vars(serde_json::json!({ "n": 1 }))),
        ] {
            assert_ne!(other, Some(a1));
        }
        assert!(!kept.validated(a1));
        kept.passed(a1);
        assert!(kept.validated(a1));
        assert!(
            documents.get("dinsos", text).is_some_and(|again| again.validated(a1)),
            "kept with the document"
        );
        for n in 0..VALIDATED as u64 * 2 {
            kept.passed(n);
        }
        let kept_pairs = kept.validated.lock().map(|set| set.len()).unwrap_or_default();
        assert!(kept_pairs <= VALIDATED, "bounded: {kept_pairs}");
        assert!(kept.validated(VALIDATED as u64 * 2 - 1), "the latest is kept");
    }

    #[test]
    fn every_value_written_weighs_as_a_node() {
        // Two bytes of text a value: weighed by its values, not its text or its two fields.
        let text = format!(
            "query Q($v: [Int] = [1 2 3]) {{ a(x: [{}], y: {{ b: 1 }}) @skip(if: false) }}",
            "1 ".repeat(5_000)
        );
        let documents = ParsedDocuments::default();
        documents.keep("dinsos", &text, parse(&text));
        // Nodes: the variable, `a`, `x`, `y`, `@skip`. Values: the default (1 + 3), `x` (1 +
        // 5,000), `y` (1 + 1), `if` (1).
        let nodes = 5 + 4 + 5_001 + 2 + 1;
        assert_eq!(documents.size(), (1, "dinsos".len() + text.len() + nodes * NODE_WEIGHT));
    }

    #[test]
    fn the_cache_is_bounded_in_weight_and_keeps_no_long_text() {
        let documents = ParsedDocuments::default();
        let long = format!("{{ me {{ agency }} }}{}", " ".repeat(LONGEST));
        documents.keep("dinsos", &long, parse(&long));
        assert_eq!(documents.size(), (0, 0), "a text longer than LONGEST is not kept");
        // Enough texts of LONGEST bytes to pass WEIGHT: the least recently used go.
        let texts: Vec<String> = (0..WEIGHT / LONGEST + 2)
            .map(|n| format!("{{ me {{ agency }} }} #{n:0>width$}", width = LONGEST - 19))
            .collect();
        for text in &texts {
            assert_eq!(text.len(), LONGEST);
            documents.keep("dinsos", text, parse(text));
        }
        let (entries, weight) = documents.size();
        assert!(weight <= WEIGHT, "{weight} kept");
        assert!(entries < texts.len());
        assert!(documents.get("dinsos", &texts[0]).is_none(), "the oldest went first");
        assert!(documents.get("dinsos", texts.last().expect("texts")).is_some());
    }
}
