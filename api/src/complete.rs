//! Completes a result as GraphQL execution specifies, where async-graphql 7.2 does not:
//!
//! - **Order.** A result map holds its fields in the order the selection set asks for them
//!   (fragments expanded in place); async-graphql inserts them as they finish resolving, so
//!   `{ b: … a: … }` could come back `a, b`.
//! - **Nulls.** A field whose resolver failed is `null` next to its error; async-graphql leaves
//!   it out of the map. A `null` in a non-null position makes its parent `null`, up to the nearest
//!   nullable position (`data` itself at worst), as "Handling Execution Errors" requires.
//!
//! The walk follows the operation's selections over the result, with the schema's shape for
//! each field's type; it changes nothing else of the result.

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    rc::Rc,
};

use async_graphql::{
    Name, PathSegment, Response, Value,
    indexmap::IndexMap,
    parser::types::{BaseType, ExecutableDocument, OperationDefinition, Selection, SelectionSet, Type},
};

use crate::shape::SchemaShape;

/// A response key of an object with the selections made under it.
struct Collected<'a> {
    key: &'a Name,
    field: &'a Name,
    /// The types the key was selected on (fragments' type conditions, or the parent).
    scopes: Vec<String>,
    sets: Vec<&'a SelectionSet>,
    /// The key's type (see [`Completion::field_type`]); `None` for `__typename` and
    /// introspection.
    ty: Option<Type>,
}

/// The selection sets and object type a collection was made for (by address: the sets live as
/// long as the document).
type CollectionKey = (Vec<usize>, String);

struct Completion<'a> {
    doc: &'a ExecutableDocument,
    shape: &'a SchemaShape,
    /// Where resolvers failed.
    failed: Vec<Vec<PathSegment>>,
    /// Collections already made: every object of a list, and every object under one, has the
    /// same selections, so each is collected once per response.
    collected: RefCell<HashMap<CollectionKey, Rc<[Collected<'a>]>>>,
}

/// Completes `response` (the result of `operation` in `doc`) in place.
pub fn complete(
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    shape: &SchemaShape,
    response: &mut Response,
) {
    let root = match operation.ty {
        async_graphql::parser::types::OperationType::Query => shape.query.as_str(),
        async_graphql::parser::types::OperationType::Mutation => shape.mutation.as_str(),
        async_graphql::parser::types::OperationType::Subscription => shape.subscription.as_str(),
    };
    let failed = response.errors.iter().filter(|e| !e.path.is_empty()).map(|e| e.path.clone()).collect();
    let completion = Completion { doc, shape, failed, collected: RefCell::default() };
    let map = match std::mem::take(&mut response.data) {
        Value::Object(map) => map,
        // async-graphql answers an object whose every field failed with `null`.
        Value::Null if completion.failed_under(&[]) => IndexMap::new(),
        other => {
            response.data = other;
            return;
        }
    };
    let fields = completion.collect(&[&operation.selection_set.node], root);
    response.data = completion.object(map, &fields, &mut Vec::new()).unwrap_or(Value::Null);
}

impl<'a> Completion<'a> {
    /// Whether a fragment on `condition` can apply within `scope`: not when both are object
    /// types of different names (a fragment on an interface or union may).
    fn applies(&self, condition: &str, scope: &str) -> bool {
        condition == scope
            || self.shape.abstract_types.contains(condition)
            || self.shape.abstract_types.contains(scope)
    }

    /// The type of a collected key: its field's, or — when fragments on different types select
    /// fields of different types under one key — the first made nullable, so that a `null` from
    /// the other type's field does not propagate.
    fn field_type(&self, scopes: &[String], field: &str) -> Option<Type> {
        let mut types = scopes.iter().filter_map(|s| self.shape.field(s, field));
        let first = types.next()?.ty.clone();
        if types.all(|other| other.ty == first) {
            return Some(first);
        }
        Some(Type { nullable: true, ..first })
    }

    /// Steps into a field or element. Paths serve only to find failed resolvers: without any,
    /// none is built (a segment per field of a large response is most of this walk's cost).
    fn enter(&self, path: &mut Vec<PathSegment>, segment: impl FnOnce() -> PathSegment) {
        if !self.failed.is_empty() {
            path.push(segment());
        }
    }

    fn leave(&self, path: &mut Vec<PathSegment>) {
        if !self.failed.is_empty() {
            path.pop();
        }
    }

    /// Whether a resolver failed at `path` or below it.
    fn failed_at_or_under(&self, path: &[PathSegment]) -> bool {
        self.failed.iter().any(|p| p.starts_with(path))
    }

    /// Whether a resolver failed strictly below `path`.
    fn failed_under(&self, path: &[PathSegment]) -> bool {
        self.failed.iter().any(|p| p.len() > path.len() && p.starts_with(path))
    }

    /// The fields `sets` select on an object of `type_name`, merged by response key, in the
    /// order of their first selection. Fragments of any type condition are included: a key the
    /// object does not have (another type's fragment, `@skip`) is passed over when completing.
    fn collect(&self, sets: &[&'a SelectionSet], type_name: &str) -> Rc<[Collected<'a>]> {
        let key = (sets.iter().map(|s| std::ptr::from_ref(*s) as usize).collect(), type_name.to_owned());
        if let Some(found) = self.collected.borrow().get(&key) {
            return found.clone();
        }
        let mut out: Vec<Collected<'a>> = Vec::new();
        let mut seen = HashSet::new();
        for set in sets {
            self.collect_into(set, type_name, &mut out, &mut seen);
        }
        for collected in &mut out {
            collected.ty = self.field_type(&collected.scopes, collected.field);
        }
        let out: Rc<[Collected<'a>]> = out.into();
        self.collected.borrow_mut().insert(key, out.clone());
        out
    }

    fn collect_into(
        &self,
        set: &'a SelectionSet,
        scope: &str,
        out: &mut Vec<Collected<'a>>,
        fragments: &mut HashSet<&'a Name>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let key = &field.response_key().node;
                    match out.iter_mut().find(|c| c.key == key) {
                        Some(existing) => {
                            existing.sets.push(&field.selection_set.node);
                            if !existing.scopes.iter().any(|s| s == scope) {
                                existing.scopes.push(scope.to_owned());
                            }
                        }
                        None => out.push(Collected {
                            key,
                            field: &field.name.node,
                            scopes: vec![scope.to_owned()],
                            sets: vec![&field.selection_set.node],
                            ty: None,
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if !fragments.insert(name) {
                        continue;
                    }
                    if let Some(fragment) = self.doc.fragments.get(name) {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        if self.applies(on, scope) {
                            self.collect_into(&fragment.node.selection_set.node, on, out, fragments);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let on = inline.type_condition.as_ref().map_or(scope, |c| c.node.on.node.as_str());
                    if self.applies(on, scope) {
                        self.collect_into(&inline.selection_set.node, on, out, fragments);
                    }
                }
            }
        }
    }

    /// An object in selection order; `None` when a non-null field of it is null.
    fn object(
        &self,
        mut map: IndexMap<Name, Value>,
        fields: &[Collected<'a>],
        path: &mut Vec<PathSegment>,
    ) -> Option<Value> {
        // Most often the resolvers' order is already the selection's: complete the values in
        // place.
        if map.len() == fields.len() && map.keys().zip(fields).all(|(key, c)| key == c.key) {
            for (value, collected) in map.values_mut().zip(fields) {
                let Some(ty) = &collected.ty else { continue };
                self.enter(path, || PathSegment::Field(collected.key.to_string()));
                let completed = self.value(std::mem::take(value), ty, &collected.sets, path);
                self.leave(path);
                *value = completed?;
            }
            return Some(Value::Object(map));
        }
        let mut out = IndexMap::with_capacity(map.len());
        for collected in fields {
            self.enter(path, || PathSegment::Field(collected.key.to_string()));
            let value = match map.shift_remove(collected.key) {
                Some(value) => Some(value),
                // The resolver failed: its error is at this path.
                None if self.failed.iter().any(|p| p == path) => Some(Value::Null),
                None => None,
            };
            let Some(value) = value else {
                self.leave(path);
                continue;
            };
            let completed = match &collected.ty {
                Some(ty) => self.value(value, ty, &collected.sets, path),
                // `__typename`, introspection: as they are.
                None => Some(value),
            };
            self.leave(path);
            out.insert(collected.key.clone(), completed?);
        }
        // Whatever the walk did not expect stays, after the rest.
        out.extend(map);
        Some(Value::Object(out))
    }

    /// A value of type `ty`; `None` when it is null in a non-null position.
    fn value(
        &self,
        value: Value,
        ty: &Type,
        sets: &[&'a SelectionSet],
        path: &mut Vec<PathSegment>,
    ) -> Option<Value> {
        let nulled = || if ty.nullable { Some(Value::Null) } else { None };
        match (value, &ty.base) {
            // async-graphql answers an object without fields with `null`: every field failed
            // (errors below it), or every field was skipped (`@skip`/`@include`; a non-null
            // object with no error at or below it).
            (Value::Null, BaseType::Named(name))
                if sets.iter().any(|s| !s.items.is_empty())
                    && (self.failed_under(path) || (!ty.nullable && !self.failed_at_or_under(path))) =>
            {
                let fields = self.collect(sets, name.as_str());
                self.object(IndexMap::new(), &fields, path).or_else(nulled)
            }
            (Value::Null, _) => nulled(),
            (Value::List(items), BaseType::List(item)) => {
                // Every element has the same type and selections: collect them once.
                let fields = match &item.base {
                    BaseType::Named(name) if items.iter().any(|v| matches!(v, Value::Object(_))) => {
                        Some(self.collect(sets, name.as_str()))
                    }
                    _ => None,
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, value) in items.into_iter().enumerate() {
                    self.enter(path, || PathSegment::Index(i));
                    let completed = match (value, &fields) {
                        (Value::Object(map), Some(fields)) => match self.object(map, fields, path) {
                            Some(value) => Some(value),
                            None if item.nullable => Some(Value::Null),
                            None => None,
                        },
                        (value, _) => self.value(value, item, sets, path),
                    };
                    self.leave(path);
                    match completed {
                        Some(value) => out.push(value),
                        None => return nulled(),
                    }
                }
                Some(Value::List(out))
            }
            (Value::Object(map), BaseType::Named(name)) => {
                let fields = self.collect(sets, name.as_str());
                self.object(map, &fields, path).or_else(nulled)
            }
            (value, _) => Some(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{ServerError, Value};

    use super::*;

    const SDL: &str = "type Query { a: Int! b: Int c: C! d: C l: [C!] }
        type C { x: Int! y: Int z: [Int!]! }";

    fn completed(query: &str, data: serde_json::Value, errors: &[&[&str]]) -> serde_json::Value {
        completed_value(query, data, errors).into_json().expect("json")
    }

    /// The completed data as async-graphql's value (a serde_json map would sort the keys).
    fn completed_value(query: &str, data: serde_json::Value, errors: &[&[&str]]) -> Value {
        let shape = SchemaShape::from_sdl(SDL);
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let operation = match &doc.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => op.node.clone(),
            _ => unreachable!(),
        };
        let mut response = Response::new(Value::from_json(data).expect("json"));
        for path in errors {
            let mut error = ServerError::new("failed", None);
            error.path = path
                .iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(i) => PathSegment::Index(i),
                    Err(_) => PathSegment::Field((*s).to_owned()),
                })
                .collect();
            response.errors.push(error);
        }
        complete(&doc, &operation, &shape, &mut response);
        response.data
    }

    fn keys(value: &Value) -> Vec<&str> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.as_str()).collect(),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn fields_come_in_the_order_selected() {
        let data = serde_json::json!({ "a": 1, "z": { "y": 2, "x": 1 }, "b": 3 });
        let out = completed_value("{ b z: c { x ... on C { y } } a }", data, &[]);
        assert_eq!(keys(&out), ["b", "z", "a"]);
        let Value::Object(map) = &out else { panic!("not an object") };
        assert_eq!(keys(&map["z"]), ["x", "y"]);
    }

    #[test]
    fn a_failed_nullable_field_is_null_and_a_failed_non_null_field_nulls_its_parent() {
        let out = completed("{ b d { x } }", serde_json::json!({ "d": { "x": 1 } }), &[&["b"]]);
        assert_eq!(out, serde_json::json!({ "b": null, "d": { "x": 1 } }));
        let out =
            completed("{ b d { x y } }", serde_json::json!({ "b": 1, "d": { "y": 1 } }), &[&["d", "x"]]);
        assert_eq!(out, serde_json::json!({ "b": 1, "d": null }), "x is non-null: d becomes null");
        let out = completed("{ b c { x } }", serde_json::json!({ "b": 1, "c": {} }), &[&["c", "x"]]);
        assert_eq!(out, serde_json::Value::Null, "c is non-null too: data becomes null");
        let out = completed("{ l { x } }", serde_json::json!({ "l": [{ "x": 1 }, {}] }), &[&["l", "1", "x"]]);
        assert_eq!(out, serde_json::json!({ "l": null }), "a non-null element nulls its nullable list");
    }

    #[test]
    fn an_object_whose_every_field_failed_is_an_object_of_nulls() {
        let out = completed("{ b }", serde_json::Value::Null, &[&["b"]]);
        assert_eq!(out, serde_json::json!({ "b": null }));
        let out = completed("{ d { y } }", serde_json::json!({ "d": null }), &[&["d", "y"]]);
        assert_eq!(out, serde_json::json!({ "d": { "y": null } }));
        let out = completed("{ d { x } }", serde_json::json!({ "d": null }), &[&["d", "x"]]);
        assert_eq!(out, serde_json::json!({ "d": null }), "x is non-null");
        let out = completed("{ d { y } }", serde_json::json!({ "d": null }), &[]);
        assert_eq!(out, serde_json::json!({ "d": null }), "a null without an error below stays");
    }

    #[test]
    fn a_field_skipped_or_of_another_type_stays_out() {
        let out = completed("{ a @skip(if: true) b }", serde_json::json!({ "b": 1 }), &[]);
        assert_eq!(out, serde_json::json!({ "b": 1 }));
        // Every field of a non-null object skipped: async-graphql sends null, the answer is {}.
        let out = completed("{ c { x @skip(if: true) } b }", serde_json::json!({ "c": null, "b": 1 }), &[]);
        assert_eq!(out, serde_json::json!({ "c": {}, "b": 1 }));
        let out = completed("{ l { x @skip(if: true) } }", serde_json::json!({ "l": [null, null] }), &[]);
        assert_eq!(out, serde_json::json!({ "l": [{}, {}] }));
    }

    #[test]
    fn one_key_over_fragments_of_different_types_is_as_nullable_as_its_loosest_field() {
        const UNION: &str = "type Query { n: N } union N = P | Q
            type P { v: Int! w: Int } type Q { v: Int w: Int }";
        let shape = SchemaShape::from_sdl(UNION);
        let doc =
            async_graphql::parser::parse_query("{ n { ... on Q { w } ... on P { v w } ... on Q { v } } }")
                .expect("parses");
        let async_graphql::parser::types::DocumentOperations::Single(op) = &doc.operations else {
            unreachable!()
        };
        let data = serde_json::json!({ "n": { "w": 1, "v": null } });
        let mut response = Response::new(Value::from_json(data).expect("json"));
        complete(&doc, &op.node, &shape, &mut response);
        assert_eq!(
            response.data.into_json().expect("json"),
            serde_json::json!({ "n": { "w": 1, "v": null } })
        );
        // A fragment on another object type cannot apply to P: its keys do not decide the order.
        let doc = async_graphql::parser::parse_query("{ ... on Q { w } ... on P { v w } }").expect("parses");
        let async_graphql::parser::types::DocumentOperations::Single(op) = &doc.operations else {
            unreachable!()
        };
        let completion =
            Completion { doc: &doc, shape: &shape, failed: Vec::new(), collected: RefCell::default() };
        let keys: Vec<String> = completion
            .collect(&[&op.node.selection_set.node], "P")
            .iter()
            .map(|c| c.key.to_string())
            .collect();
        assert_eq!(keys, ["v", "w"]);
    }
}
