//! `schema.graphql` is exported from the code; the committed file must match it.

use crate::helpers::spawn_app;

#[tokio::test]
async fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let generated = sinergi_api::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema.graphql is out of date; run: UPDATE_SCHEMA=1 cargo test --test api committed_schema_matches_the_code"
    );
    let app = spawn_app().await;
    let served =
        app.client.get(app.url("/schema.graphql")).send().await.expect("get").text().await.expect("text");
    assert_eq!(served, generated);
}

/// Everything of the schema a reader of `schema.graphql` may look up, parsed with async-graphql's
/// own SDL parser: every type (scalars and connections included), field, argument, enum value and
/// input field must say what it is.
#[test]
fn every_type_field_argument_and_value_has_a_description() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(sinergi_api::sdl()).expect("the SDL parses");
    let mut undocumented = Vec::new();
    let mut seen = 0;
    let mut check = |what: String, description: &Option<async_graphql::Positioned<String>>| {
        seen += 1;
        if description.as_ref().is_none_or(|d| d.node.trim().is_empty()) {
            undocumented.push(what);
        }
    };
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = &ty.node;
        let name = ty.name.node.to_string();
        check(format!("type {name}"), &ty.description);
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    check(format!("{name}.{}", field.node.name.node), &field.node.description);
                    for arg in &field.node.arguments {
                        check(
                            format!("{name}.{}({})", field.node.name.node, arg.node.name.node),
                            &arg.node.description,
                        );
                    }
                }
            }
            TypeKind::Interface(interface) => {
                for field in &interface.fields {
                    check(format!("{name}.{}", field.node.name.node), &field.node.description);
                }
            }
            TypeKind::Enum(e) => {
                for value in &e.values {
                    check(format!("{name}.{}", value.node.value.node), &value.node.description);
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    check(format!("{name}.{}", field.node.name.node), &field.node.description);
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(seen > 1_000, "the walk found only {seen} things");
    assert!(undocumented.is_empty(), "{} undocumented: {undocumented:#?}", undocumented.len());
}

/// `CaseEvent.fromStatus`/`toStatus` use one `RecordStatus` enum: it must hold every value of
/// every record's own status enum.
#[test]
fn record_status_holds_every_lifecycle_status() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(sinergi_api::sdl()).expect("the SDL parses");
    let mut enums = std::collections::BTreeMap::new();
    for definition in &doc.definitions {
        if let TypeSystemDefinition::Type(ty) = definition
            && let TypeKind::Enum(e) = &ty.node.kind
        {
            let values: std::collections::BTreeSet<String> =
                e.values.iter().map(|v| v.node.value.node.to_string()).collect();
            enums.insert(ty.node.name.node.to_string(), values);
        }
    }
    let all = enums.get("RecordStatus").cloned().expect("RecordStatus");
    let lifecycles: Vec<&String> = enums
        .keys()
        .filter(|n| n.ends_with("Status") && *n != "RecordStatus" && *n != "WebhookStatus")
        .collect();
    assert!(lifecycles.len() >= 8, "{lifecycles:?}");
    for name in lifecycles {
        let missing: Vec<&String> = enums[name].difference(&all).collect();
        assert!(missing.is_empty(), "RecordStatus lacks {missing:?} of {name}");
    }
}
