//! An operation's variables, checked before it runs as GraphQL requires: every variable is used
//! only where its declared type fits (validation's "All Variable Usages Are Allowed": a `String`
//! variable is no `UUID!` argument), and every value given coerces to its declared type
//! ("CoerceVariableValues": a `UUID` is a UUID, an enum one of its values, an input object has
//! its required fields and no others). A failure is a request error: nothing of the operation
//! runs — in particular no root field of a mutation is written before a later one's variable is
//! found wrong. (async-graphql 7.2 checks variable types only where a value is read, during
//! execution, and its usage rule never sees a usage: its visitor chain does not pass input
//! values on.)

use std::collections::HashSet;

use async_graphql::{
    InputType, Name, Pos, Value, Variables,
    parser::types::{
        BaseType, Directive, ExecutableDocument, OperationDefinition, Selection, SelectionSet, Type,
    },
};

use crate::shape::SchemaShape;

/// Checks `operation`'s variables: their usages against the schema, then `given` against their
/// declared types. `Err` names the first variable at fault.
pub fn check(
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    given: &Variables,
    shape: &SchemaShape,
) -> Result<(), String> {
    let root = match operation.ty {
        async_graphql::parser::types::OperationType::Query => &shape.query,
        async_graphql::parser::types::OperationType::Mutation => &shape.mutation,
        async_graphql::parser::types::OperationType::Subscription => &shape.subscription,
    };
    let mut usages = Usages { doc, shape, found: Vec::new(), fragments: HashSet::new() };
    usages.directives(&operation.directives);
    usages.selection_set(&operation.selection_set.node, root);
    for (name, location, location_default) in usages.found {
        let Some(definition) = operation.variable_definitions.iter().find(|d| d.node.name.node == name)
        else {
            continue; // An undefined variable: validation names it.
        };
        let declared = &definition.node.var_type.node;
        // A default of `null` does not make a variable non-null.
        let has_default =
            definition.node.default_value.as_ref().is_some_and(|d| !matches!(d.node, Value::Null))
                || location_default;
        if !fits(declared, has_default, &location) {
            return Err(format!(
                "Variable \"${name}\" of type \"{declared}\" used in position expecting type \"{location}\"."
            ));
        }
    }
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = &definition.name.node;
        let ty = &definition.var_type.node;
        match given.get(name) {
            None if definition.default_value.is_none() && !ty.nullable => {
                return Err(format!("Variable \"${name}\" of required type \"{ty}\" was not provided."));
            }
            None => {}
            Some(value) => coerce(value, ty, shape)
                .map_err(|(at, why)| format!("Variable \"${name}\" got an invalid value{at}: {why}"))?,
        }
    }
    Ok(())
}

/// Whether a variable of type `declared` may be used where `location` is expected (the
/// specification's AreTypesCompatible, with its exception for a default value).
fn fits(declared: &Type, has_default: bool, location: &Type) -> bool {
    if !location.nullable && declared.nullable && !has_default {
        return false;
    }
    match (&declared.base, &location.base) {
        (BaseType::Named(a), BaseType::Named(b)) => a == b,
        (BaseType::List(a), BaseType::List(b)) => fits(a, false, b),
        _ => false,
    }
}

/// Where in a value a problem is (` at "input.items[2]"`, or nothing at the top), and what.
type Fault = (String, String);

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" at \"{path}\"") }
}

/// Coerces `value` to `ty` as GraphQL's input coercion does, without keeping the result.
fn coerce(value: &Value, ty: &Type, shape: &SchemaShape) -> Result<(), Fault> {
    coerce_at(value, ty, shape, &mut String::new())
}

fn coerce_at(value: &Value, ty: &Type, shape: &SchemaShape, path: &mut String) -> Result<(), Fault> {
    if matches!(value, Value::Null) {
        return match ty.nullable {
            true => Ok(()),
            false => Err((at(path), format!("null for the non-null type \"{ty}\""))),
        };
    }
    match &ty.base {
        BaseType::List(item) => match value {
            Value::List(items) => {
                for (i, value) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    coerce_at(value, item, shape, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            // A single value stands for a list of one.
            other => coerce_at(other, item, shape, path),
        },
        BaseType::Named(name) => named(value, name, shape, path),
    }
}

fn named(value: &Value, name: &Name, shape: &SchemaShape, path: &mut String) -> Result<(), Fault> {
    let name = name.as_str();
    if let Some(values) = shape.enums.get(name) {
        return match value {
            Value::String(s) if values.contains(s.as_str()) => Ok(()),
            Value::Enum(s) if values.contains(s.as_str()) => Ok(()),
            Value::String(_) | Value::Enum(_) => {
                Err((at(path), format!("not a value of the enum \"{name}\"")))
            }
            _ => Err((at(path), format!("expected a value of the enum \"{name}\""))),
        };
    }
    if let Some(fields) = shape.inputs.get(name) {
        let Value::Object(given) = value else {
            return Err((at(path), format!("expected an object of the input type \"{name}\"")));
        };
        if let Some(unknown) = given.keys().find(|k| !fields.contains_key(k.as_str())) {
            // Cut by characters: a name is the client's text.
            let field: String = unknown.chars().take(64).collect();
            return Err((at(path), format!("\"{field}\" is not a field of the input type \"{name}\"")));
        }
        let mut names: Vec<&String> = fields.keys().collect();
        names.sort();
        for field in names {
            let input = &fields[field];
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(field);
            match given.get(field.as_str()) {
                None if !input.ty.nullable && !input.has_default => {
                    return Err((
                        at(path),
                        format!("the required field of type \"{}\" is missing", input.ty),
                    ));
                }
                None => {}
                Some(value) => coerce_at(value, &input.ty, shape, path)?,
            }
            path.truncate(len);
        }
        return Ok(());
    }
    scalar(value, name).map_err(|why| (at(path), why))
}

/// A scalar value, parsed by the same code that reads it during execution.
fn scalar(value: &Value, name: &str) -> Result<(), String> {
    parse_scalar(value, name).unwrap_or(Ok(()))
}

/// `None` for a scalar this module does not know (a test keeps the list complete).
fn parse_scalar(value: &Value, name: &str) -> Option<Result<(), String>> {
    fn parse<T: InputType>(value: &Value) -> Result<(), String> {
        T::parse(Some(value.clone())).map(|_| ()).map_err(|e| e.into_server_error(Pos::default()).message)
    }
    Some(match name {
        "Int" => parse::<i32>(value),
        "Float" => parse::<f64>(value),
        "String" => parse::<String>(value),
        "Boolean" => parse::<bool>(value),
        "ID" => parse::<async_graphql::ID>(value),
        "UUID" => parse::<uuid::Uuid>(value),
        "Date" => parse::<crate::scalars::Date>(value),
        "DateTime" => parse::<chrono::DateTime<chrono::Utc>>(value),
        "Rupiah" => parse::<crate::scalars::Rupiah>(value),
        _ => return None,
    })
}

/// Collects where each variable is used: (variable, the type expected there, whether that
/// place has a default of its own).
struct Usages<'a> {
    doc: &'a ExecutableDocument,
    shape: &'a SchemaShape,
    found: Vec<(Name, Type, bool)>,
    fragments: HashSet<&'a Name>,
}

impl<'a> Usages<'a> {
    fn value_of(&mut self, value: &async_graphql_value::Value, ty: &Type, has_default: bool) {
        use async_graphql_value::Value as V;
        match value {
            V::Variable(name) => self.found.push((name.clone(), ty.clone(), has_default)),
            V::List(items) => {
                if let BaseType::List(item) = &ty.base {
                    for value in items {
                        self.value_of(value, item, false);
                    }
                }
            }
            V::Object(fields) => {
                if let BaseType::Named(name) = &ty.base
                    && let Some(input) = self.shape.inputs.get(name.as_str())
                {
                    for (field, value) in fields {
                        if let Some(shape) = input.get(field.as_str()) {
                            let (ty, has_default) = (shape.ty.clone(), shape.has_default);
                            self.value_of(value, &ty, has_default);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn directives(&mut self, directives: &[async_graphql::Positioned<Directive>]) {
        for directive in directives {
            let Some(args) = self.shape.directives.get(directive.node.name.node.as_str()) else { continue };
            for (name, value) in &directive.node.arguments {
                if let Some(input) = args.get(name.node.as_str()) {
                    let (ty, has_default) = (input.ty.clone(), input.has_default);
                    self.value_of(&value.node, &ty, has_default);
                }
            }
        }
    }

    fn selection_set(&mut self, set: &'a SelectionSet, parent: &str) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.directives(&field.directives);
                    let Some(shape) = self.shape.field(parent, field.name.node.as_str()) else { continue };
                    for (name, value) in &field.arguments {
                        if let Some(input) = shape.args.get(name.node.as_str()) {
                            let (ty, has_default) = (input.ty.clone(), input.has_default);
                            self.value_of(&value.node, &ty, has_default);
                        }
                    }
                    let child = shape.type_name.clone();
                    self.selection_set(&field.selection_set.node, &child);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives);
                    let name = &spread.node.fragment_name.node;
                    if !self.fragments.insert(name) {
                        continue;
                    }
                    if let Some(fragment) = self.doc.fragments.get(name) {
                        let on = fragment.node.type_condition.node.on.node.to_string();
                        self.directives(&fragment.node.directives);
                        self.selection_set(&fragment.node.selection_set.node, &on);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    self.directives(&inline.directives);
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| parent.to_owned());
                    self.selection_set(&inline.selection_set.node, &on);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let shape = SchemaShape::from_sdl(&crate::sdl());
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let operation = match &doc.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => op.node.clone(),
            async_graphql::parser::types::DocumentOperations::Multiple(ops) => {
                ops.values().next().expect("one").node.clone()
            }
        };
        check(&doc, &operation, &Variables::from_json(variables), &shape)
    }

    #[test]
    fn a_variable_is_used_only_where_its_type_fits() {
        let string =
            checked("query($id: String!) { beneficiary(id: $id) { id } }", serde_json::json!({ "id": "x" }));
        assert!(string.is_err_and(|e| e.contains("\"String!\" used in position expecting type \"UUID!\"")));
        let nullable = checked("query($id: UUID) { beneficiary(id: $id) { id } }", serde_json::json!({}));
        assert!(nullable.is_err(), "a nullable variable for a non-null argument");
        let defaulted =
            "query($id: UUID = \"01a229f9-7b8d-7508-992a-2c6386c5c75e\") { beneficiary(id: $id) { id } }";
        assert_eq!(checked(defaulted, serde_json::json!({})), Ok(()), "a default makes it non-null");
        let fragment =
            "query($n: String) { ...F } fragment F on Query { beneficiaries(first: $n) { nodes { id } } }";
        assert!(checked(fragment, serde_json::json!({})).is_err(), "inside a fragment");
        let nested = "mutation($d: String!) { createBeneficiary(input: { nik: \"1\", kkNumber: \"1\", fullName: \"a\", birthDate: \"2000-01-01\", sex: MALE, regencyCode: \"64.01\", districtCode: \"64.01.01\", decile: 1, decileSource: DTKS, decileAssessedOn: $d, isHeadOfFamily: true }) { beneficiary { id } } }";
        assert!(
            checked(nested, serde_json::json!({ "d": "2026-01-01" })).is_err_and(|e| e.contains("\"Date!\""))
        );
        let skip = "query($s: String!) { me @skip(if: $s) { agency } }";
        assert!(checked(skip, serde_json::json!({ "s": "x" })).is_err(), "a directive's argument");
    }

    #[test]
    fn every_scalar_of_the_schema_is_checked() {
        let shape = SchemaShape::from_sdl(&crate::sdl());
        for name in &shape.scalars {
            assert!(parse_scalar(&Value::Null, name).is_some(), "add scalar {name} to parse_scalar");
        }
    }

    #[test]
    fn a_long_unknown_field_name_is_cut_by_characters_and_a_null_default_is_none() {
        let filter = "query($f: BeneficiaryFilter) { beneficiaries(filter: $f) { nodes { id } } }";
        let name = "€".repeat(70);
        let error = checked(filter, serde_json::json!({ "f": { name: 1 } })).expect_err("unknown field");
        assert!(error.contains(&"€".repeat(64)) && !error.contains(&"€".repeat(65)), "{error}");
        let null_default = "query($id: UUID = null) { beneficiary(id: $id) { id } }";
        assert!(checked(null_default, serde_json::json!({})).is_err(), "a null default is no default");
    }

    #[test]
    fn a_value_must_coerce_to_its_declared_type() {
        let query = "query($id: UUID!) { beneficiary(id: $id) { id } }";
        assert!(checked(query, serde_json::json!({ "id": "x" })).is_err_and(|e| e.contains("UUID")));
        assert!(checked(query, serde_json::json!({})).is_err_and(|e| e.contains("was not provided")));
        assert!(checked(query, serde_json::json!({ "id": null })).is_err());
        let ok = serde_json::json!({ "id": "01a229f9-7b8d-7508-992a-2c6386c5c75e" });
        assert_eq!(checked(query, ok), Ok(()));
        let filter = "query($f: BeneficiaryFilter) { beneficiaries(filter: $f) { nodes { id } } }";
        assert!(
            checked(filter, serde_json::json!({ "f": { "nope": 1 } })).is_err_and(|e| e.contains("\"nope\""))
        );
        assert!(
            checked(filter, serde_json::json!({ "f": { "statuses": ["GONE"] } }))
                .is_err_and(|e| e.contains("at \"statuses[0]\""))
        );
        assert_eq!(checked(filter, serde_json::json!({ "f": { "statuses": ["ACTIVE"] } })), Ok(()));
        let page = "query($n: Int) { beneficiaries(first: $n) { nodes { id } } }";
        assert!(checked(page, serde_json::json!({ "n": 3_000_000_000u64 })).is_err(), "beyond 32 bits");
        assert!(checked(page, serde_json::json!({ "n": "5" })).is_err());
    }
}
