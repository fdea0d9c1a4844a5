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

#[test]
fn every_type_and_field_has_a_description() {
    let sdl = sinergi_api::sdl();
    let mut undocumented = Vec::new();
    let (mut in_description, mut described) = (false, false);
    for line in sdl.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("\"\"\"") {
            let one_line = trimmed.len() > 3 && trimmed.ends_with("\"\"\"");
            if !one_line {
                in_description = !in_description;
            }
            described = !in_description;
            continue;
        }
        if in_description || trimmed.is_empty() || trimmed == "}" {
            continue;
        }
        let is_type = ["type ", "input ", "enum ", "scalar "].iter().any(|p| line.starts_with(p));
        let is_member = line.starts_with('\t');
        // Relay's generated connection types and the roots carry async-graphql's own shape.
        let generated = ["Connection {", "QueryRoot", "MutationRoot", "SubscriptionRoot", "PageInfo"]
            .iter()
            .any(|g| line.contains(g));
        if (is_type || is_member) && !described && !generated {
            undocumented.push(trimmed.to_owned());
        }
        described = false;
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
}
