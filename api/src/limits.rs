//! Request limits, checked before execution: nesting of the raw text, aliases, root fields,
//! depth and a cost that multiplies by page sizes; and who may run introspection.
//!
//! The cost walks the parsed document against the schema's shape (read once from its SDL):
//! every field costs 1; what a `…Connection` field selects is multiplied by its `first` (the
//! default page when absent), what a list relation selects by `LIST_FACTOR`. So
//! `beneficiaries(first: 100) { nodes { businesses { loans { id } } } }` costs about
//! 100 × 10 × 10, while the same with `first: 5` costs a twentieth of it.

use std::time::Duration;

use async_graphql::{
    Name, Variables,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet},
};

use crate::page::{DEFAULT_PAGE, MAX_PAGE};
pub use crate::shape::SchemaShape;

/// Assumed length of a relation list (a beneficiary's businesses, a business's loans…).
pub const LIST_FACTOR: u64 = 10;
/// Fields computed with several statements of their own each time they resolve, and what one
/// resolution costs besides its selection.
const COMPUTED: &[(&str, u64)] = &[("graduationReadiness", 100)];
/// Cost of `__schema` (the whole type system) and of `__type` (one type).
const SCHEMA_INTROSPECTION_COST: u64 = 10_000;
const TYPE_INTROSPECTION_COST: u64 = 100;
/// Deepest bracket nesting of the raw text accepted before parsing (the parser recurses).
pub const MAX_TEXT_NESTING: usize = 64;
/// Longest name or number accepted: GraphQL names in this schema are short.
pub const MAX_TOKEN_LENGTH: usize = 128;
/// Most nodes (fields, arguments, directives, spreads, variables) a document may hold as
/// written: validation walks each, and reports each error.
pub const MAX_DOCUMENT_NODES: usize = 3_000;
/// Selections visited while measuring one document; more is refused (fragment bombs).
const MAX_VISITS: usize = 20_000;

/// Who may run introspection queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Introspection {
    /// Every authenticated token.
    Any,
    /// Tokens with the `admin` scope.
    Admin,
    /// Nobody: `schema.graphql` and `GET /schema.graphql` publish the schema instead.
    Off,
}

/// The limits one request must stay within (operator configuration).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_depth: usize,
    pub max_cost: u64,
    pub max_response_bytes: usize,
    pub introspection: Introspection,
    pub request_timeout: Duration,
    pub statement_timeout: Duration,
    pub ws_init_timeout: Duration,
    pub max_subscriptions_per_socket: usize,
    pub max_subscriptions_per_client: usize,
    /// Connections (HTTP and WebSocket) served at once; more are closed on accept.
    pub max_connections: usize,
    /// How long a mutation's `Idempotency-Key` and its response are kept.
    pub idempotency_ttl: Duration,
    /// On SIGTERM: how long `/readyz` answers 503 while everything is still served, so load
    /// balancers stop sending before connections are refused.
    pub shutdown_delay: Duration,
    /// On SIGTERM, after the delay: how long requests in flight and sockets have to finish
    /// before the process exits anyway.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_aliases: 30,
            max_root_fields: 20,
            max_depth: 12,
            max_cost: 50_000,
            max_response_bytes: 8 * 1024 * 1024,
            introspection: Introspection::Any,
            request_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(20),
            ws_init_timeout: Duration::from_secs(10),
            max_subscriptions_per_socket: 20,
            max_subscriptions_per_client: 100,
            max_connections: 10_000,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(45),
        }
    }
}

/// What measuring an operation found.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub aliases: usize,
    pub root_fields: usize,
    pub depth: usize,
    pub cost: u64,
    pub introspection: bool,
}

/// What a scan of the raw text finds before anything parses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextScan {
    /// Deepest nesting of `{`, `(` and `[` outside strings and comments (the parser recurses on
    /// each level, so a megabyte of `{` must be refused before it is parsed).
    pub nesting: usize,
    /// Longest name or number (validation compares names; errors quote them).
    pub longest_token: usize,
}

/// Scans a document's text, skipping strings and comments.
pub fn scan_text(text: &str) -> TextScan {
    let bytes = text.as_bytes();
    let (mut depth, mut scan, mut i, mut run) = (0usize, TextScan::default(), 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || b == b'_' {
            run += 1;
            scan.longest_token = scan.longest_token.max(run);
            i += 1;
            continue;
        }
        run = 0;
        match b {
            // A comment ends at any line terminator: `\n`, `\r` or both, as the grammar says.
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                scan.nesting = scan.nesting.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    scan
}

/// Counts the nodes of a document as written (each field, argument, directive, fragment spread
/// and variable definition once): what validation walks, fragments not expanded.
pub fn document_nodes(doc: &ExecutableDocument) -> usize {
    fn set_nodes(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    1 + f.node.arguments.len()
                        + f.node.directives.len()
                        + set_nodes(&f.node.selection_set.node)
                }
                Selection::FragmentSpread(s) => 1 + s.node.directives.len(),
                Selection::InlineFragment(i) => {
                    1 + i.node.directives.len() + set_nodes(&i.node.selection_set.node)
                }
            })
            .sum()
    }
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| {
            op.node.variable_definitions.len()
                + op.node.directives.len()
                + set_nodes(&op.node.selection_set.node)
        })
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| 1 + f.node.directives.len() + set_nodes(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

/// The name of a document's only operation, if it has one (for logs when `operationName` is not
/// given).
pub fn sole_operation_name(doc: &ExecutableDocument) -> Option<String> {
    match &doc.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.keys().next().map(|n| n.to_string()),
        _ => None,
    }
}

/// The operation a request runs: the one `name` names, or the only one.
pub(crate) fn select_operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a async_graphql::parser::types::OperationDefinition> {
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node)
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    shape: &'a SchemaShape,
    variables: &'a Variables,
    visits: usize,
    measure: Measure,
}

impl<'a> Walker<'a> {
    /// Counts one selection visited; too many once fragments are expanded is a fragment bomb.
    fn visit(&mut self) -> Result<(), String> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return Err(format!(
                "the document selects more than {MAX_VISITS} fields once fragments are expanded"
            ));
        }
        Ok(())
    }

    /// The fragment a spread names, pushed on `stack` (the caller pops it); a fragment that
    /// spreads itself is an error, an unknown one is left to validation.
    fn enter(
        &self,
        name: &Name,
        stack: &mut Vec<Name>,
    ) -> Result<Option<&'a async_graphql::Positioned<async_graphql::parser::types::FragmentDefinition>>, String>
    {
        let Some(fragment) = self.doc.fragments.get(name) else { return Ok(None) };
        if stack.contains(name) {
            return Err(format!("fragment `{name}` spreads itself"));
        }
        stack.push(name.clone());
        Ok(Some(fragment))
    }

    /// The cost of `set` selected on `parent`, at `depth` (root fields are at depth 1).
    fn walk(
        &mut self,
        set: &SelectionSet,
        parent: &str,
        depth: usize,
        stack: &mut Vec<Name>,
    ) -> Result<u64, String> {
        let mut cost = 0u64;
        for item in &set.items {
            self.visit()?;
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    if field.alias.is_some() {
                        self.measure.aliases += 1;
                    }
                    if depth == 1 {
                        self.measure.root_fields += 1;
                    }
                    self.measure.depth = self.measure.depth.max(depth);
                    match name {
                        "__schema" | "__type" => {
                            self.measure.introspection = true;
                            // The schema has a fixed size; only aliases could repeat parts of it.
                            self.introspect(&field.selection_set.node, depth + 1, stack)?;
                            let fixed = if name == "__schema" {
                                SCHEMA_INTROSPECTION_COST
                            } else {
                                TYPE_INTROSPECTION_COST
                            };
                            cost = cost.saturating_add(fixed);
                            continue;
                        }
                        _ => {}
                    }
                    let shape = self.shape.field(parent, name).cloned();
                    let child_type = shape.as_ref().map(|s| s.type_name.as_str()).unwrap_or_default();
                    let children = self.walk(&field.selection_set.node, child_type, depth + 1, stack)?;
                    let factor = match &shape {
                        Some(s) if s.type_name.ends_with("Connection") => {
                            let first = field.arguments.iter().find(|(n, _)| n.node == "first").and_then(
                                |(_, value)| {
                                    value
                                        .node
                                        .clone()
                                        .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                                        .ok()
                                },
                            );
                            self.page_size(first)
                        }
                        // `nodes(ids:)` returns one record per id: as many as the ids given.
                        Some(s) if s.list && name == "nodes" && parent == "Query" => {
                            let ids = field.arguments.iter().find(|(n, _)| n.node == "ids").and_then(
                                |(_, value)| {
                                    value
                                        .node
                                        .clone()
                                        .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                                        .ok()
                                },
                            );
                            match ids {
                                Some(async_graphql::Value::List(ids)) => ids.len().clamp(1, 100) as u64,
                                _ => 100,
                            }
                        }
                        Some(s) if s.list && !parent.ends_with("Connection") => LIST_FACTOR,
                        _ => 1,
                    };
                    let own = COMPUTED.iter().find(|(n, _)| *n == name).map_or(1, |(_, c)| *c);
                    cost = cost.saturating_add(own).saturating_add(children.saturating_mul(factor));
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.enter(&spread.node.fragment_name.node, stack)? else {
                        continue;
                    };
                    let on = fragment.node.type_condition.node.on.node.to_string();
                    cost = cost.saturating_add(self.walk(
                        &fragment.node.selection_set.node,
                        &on,
                        depth,
                        stack,
                    )?);
                    stack.pop();
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| parent.to_owned());
                    cost = cost.saturating_add(self.walk(&inline.selection_set.node, &on, depth, stack)?);
                }
            }
        }
        Ok(cost)
    }

    /// Walks the inside of an introspection field: no aliases (they would repeat the schema in
    /// the response), depth counted.
    fn introspect(&mut self, set: &SelectionSet, depth: usize, stack: &mut Vec<Name>) -> Result<(), String> {
        for item in &set.items {
            self.visit()?;
            match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        return Err("aliases are not allowed inside introspection (__schema, __type)".into());
                    }
                    self.measure.depth = self.measure.depth.max(depth);
                    self.introspect(&field.node.selection_set.node, depth + 1, stack)?;
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.enter(&spread.node.fragment_name.node, stack)? else {
                        continue;
                    };
                    self.introspect(&fragment.node.selection_set.node, depth, stack)?;
                    stack.pop();
                }
                Selection::InlineFragment(inline) => {
                    self.introspect(&inline.node.selection_set.node, depth, stack)?
                }
            }
        }
        Ok(())
    }

    /// The page size a connection field asks for: its `first` (from a literal or a variable),
    /// the default page when absent, the maximum page when unreadable (validation refuses it).
    fn page_size(&self, first: Option<async_graphql::Value>) -> u64 {
        use async_graphql::Value;
        match first {
            None | Some(Value::Null) => DEFAULT_PAGE as u64,
            Some(Value::Number(n)) => n.as_u64().map_or(MAX_PAGE as u64, |n| n.min(MAX_PAGE as u64)),
            Some(_) => MAX_PAGE as u64,
        }
    }
}

/// Measures the operation `name` of `doc` (the only one when `name` is absent).
pub fn measure(
    doc: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
    shape: &SchemaShape,
) -> Result<Measure, String> {
    let Some(operation) = select_operation(doc, name) else {
        return Err(match name {
            Some(_) => "the document has no operation of the name `operationName` gives".into(),
            None => "the document holds several operations: name the one to run in `operationName`".into(),
        });
    };
    let (ty, set) = (operation.ty, &operation.selection_set.node);
    // A variable the request leaves out takes its declared default, as execution will.
    let mut variables = variables.clone();
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        if let Some(default) = &definition.default_value
            && !variables.contains_key(&definition.name.node)
        {
            variables.insert(definition.name.node.clone(), default.node.clone());
        }
    }
    let variables = &variables;
    let root = match ty {
        OperationType::Query => &shape.query,
        OperationType::Mutation => &shape.mutation,
        OperationType::Subscription => &shape.subscription,
    };
    let mut walker = Walker { doc, shape, variables, visits: 0, measure: Measure::default() };
    let cost = walker.walk(set, root, 1, &mut Vec::new())?;
    let mut measure = walker.measure;
    measure.cost = cost;
    Ok(measure)
}

impl Limits {
    /// `Err` with a message naming the limit an operation breaks.
    pub fn check(&self, measure: &Measure) -> Result<(), String> {
        let checks: [(u64, u64, &str, &str); 4] = [
            (measure.aliases as u64, self.max_aliases as u64, "aliases", "max_aliases"),
            (measure.root_fields as u64, self.max_root_fields as u64, "root fields", "max_root_fields"),
            (measure.depth as u64, self.max_depth as u64, "levels of nesting", "max_depth"),
            (
                measure.cost,
                self.max_cost,
                "of cost (smaller pages or fewer nested lists cost less)",
                "max_cost",
            ),
        ];
        match checks.into_iter().find(|(found, limit, _, _)| found > limit) {
            Some((found, limit, what, name)) => {
                Err(format!("the operation has {found} {what}; the limit is {limit} ({name})"))
            }
            None => Ok(()),
        }
    }

    /// Whether a caller holding (or not holding) `admin` may run introspection.
    pub fn allows_introspection(&self, admin: bool) -> bool {
        match self.introspection {
            Introspection::Any => true,
            Introspection::Admin => admin,
            Introspection::Off => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> SchemaShape {
        SchemaShape::from_sdl(&crate::sdl())
    }

    fn measured(query: &str, variables: serde_json::Value) -> Result<Measure, String> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        measure(&doc, None, &Variables::from_json(variables), &shape())
    }

    #[test]
    fn a_connection_multiplies_by_first_and_a_relation_list_by_ten() {
        let q = "{ beneficiaries(first: 50) { nodes { id businesses { id loans { id } } } } }";
        let m = measured(q, serde_json::json!({})).expect("measured");
        // beneficiaries: 1 + 50 × (nodes: 1 + 1 × (id 1 + businesses: 1 + 10 × (id 1 + loans: 1 + 10 × 1)))
        assert_eq!(m.cost, 1 + 50 * (1 + (1 + (1 + 10 * (1 + (1 + 10))))));
        assert_eq!((m.root_fields, m.depth, m.aliases), (1, 5, 0));
        let small = measured(
            "query($n: Int) { beneficiaries(first: $n) { nodes { id } } }",
            serde_json::json!({ "n": 5 }),
        )
        .expect("measured");
        assert_eq!(small.cost, 1 + 5 * 2);
        let default = measured("{ beneficiaries { nodes { id } } }", serde_json::json!({})).expect("m");
        assert_eq!(default.cost, 1 + DEFAULT_PAGE as u64 * 2);
    }

    #[test]
    fn a_variable_default_counts_like_a_given_value() {
        let q = "query($n: Int = 100) { beneficiaries(first: $n) { nodes { id } } }";
        let m = measured(q, serde_json::json!({})).expect("measured");
        assert_eq!(m.cost, 1 + 100 * 2);
        let m = measured(q, serde_json::json!({ "n": 3 })).expect("measured");
        assert_eq!(m.cost, 1 + 3 * 2);
    }

    #[test]
    fn aliases_and_root_fields_are_counted_through_fragments() {
        let q = "query { a: me { agency } b: me { agency } ...F } fragment F on Query { c: me { agency } }";
        let m = measured(q, serde_json::json!({})).expect("measured");
        assert_eq!((m.aliases, m.root_fields), (3, 3));
        assert!(
            measured("{ __schema { types { name } } }", serde_json::json!({})).is_ok_and(|m| m.introspection)
        );
        assert!(measured("query { ...A } fragment A on Query { ...A }", serde_json::json!({})).is_err());
    }

    #[test]
    fn fragment_bombs_are_refused_before_they_are_expanded() {
        let mut q = String::from("query { ...F0 }");
        for i in 0..30 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        q.push_str(" fragment F30 on Query { me { agency } }");
        assert!(measured(&q, serde_json::json!({})).is_err_and(|e| e.contains("fragments")));
    }

    #[test]
    fn introspection_may_not_repeat_the_schema_with_aliases() {
        let bomb = "{ __schema { types { name f1: fields { name } f2: fields { name } } } }";
        assert!(measured(bomb, serde_json::json!({})).is_err_and(|e| e.contains("introspection")));
        let graphiql = "query IntrospectionQuery { __schema { queryType { name } types { ...FullType } } }
            fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } } }
            fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
        let m = measured(graphiql, serde_json::json!({})).expect("GraphiQL's introspection runs");
        assert!(m.introspection && m.cost <= 50_000, "{m:?}");
    }

    #[test]
    fn a_comment_ended_by_a_carriage_return_does_not_hide_the_brackets_after_it() {
        let text = format!("#\r{}", "{a".repeat(1000));
        assert_eq!(scan_text(&text).nesting, 1000);
        let text = format!("{{ me(x: \"a\r{}", "{a".repeat(100));
        assert!(scan_text(&text).nesting > 64, "a string ends at a line terminator too");
        assert!(scan_text(&format!("#\r{}", "a".repeat(500))).longest_token == 500);
    }

    #[test]
    fn long_tokens_are_found_before_parsing() {
        assert_eq!(scan_text("{ me { agency } }").longest_token, 6);
        assert_eq!(scan_text(&format!("{{ {} }}", "a".repeat(500))).longest_token, 500);
        assert_eq!(
            scan_text(&format!("{{ me(x: \"{}\") }}", "a".repeat(500))).longest_token,
            2,
            "strings are not names"
        );
    }

    fn text_nesting(text: &str) -> usize {
        scan_text(text).nesting
    }

    #[test]
    fn text_nesting_ignores_strings_and_comments() {
        assert_eq!(text_nesting("{ a { b(x: \"{{{{\") } } # {{{{"), 3);
        assert_eq!(text_nesting(&"{".repeat(1000)), 1000);
        assert_eq!(text_nesting("{ a(s: \"\"\" {{{ \"\"\") }"), 2);
    }
}
