//! The schema's shape, read once from its own SDL: each object's fields with their types and
//! arguments, the input objects, enums and scalars, and the directives. What the gateway checks
//! of a request before it runs (its cost, its variables) and how it shapes a response (key
//! order, nulls) is worked out against it.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition};

/// An argument or input field: its type and whether the schema gives it a default.
#[derive(Debug, Clone)]
pub struct InputShape {
    pub ty: Type,
    pub has_default: bool,
}

/// A field of an object or interface type.
#[derive(Debug, Clone)]
pub struct FieldShape {
    /// The named type inside any lists and non-nulls.
    pub type_name: String,
    /// Whether the field returns a list.
    pub list: bool,
    /// The full type.
    pub ty: Type,
    /// Its arguments by name.
    pub args: HashMap<String, InputShape>,
}

/// The schema's types, enough to measure a document, check its variables and shape its result.
#[derive(Debug, Default)]
pub struct SchemaShape {
    pub(crate) fields: HashMap<String, HashMap<String, FieldShape>>,
    pub(crate) inputs: HashMap<String, HashMap<String, InputShape>>,
    pub(crate) enums: HashMap<String, HashSet<String>>,
    pub(crate) scalars: HashSet<String>,
    /// Interfaces and unions: a fragment on one may apply to an object of another name.
    pub(crate) abstract_types: HashSet<String>,
    pub(crate) directives: HashMap<String, HashMap<String, InputShape>>,
    pub(crate) query: String,
    pub(crate) mutation: String,
    pub(crate) subscription: String,
}

fn inputs(values: Vec<async_graphql::Positioned<InputValueDefinition>>) -> HashMap<String, InputShape> {
    values
        .into_iter()
        .map(|v| {
            let v = v.node;
            (v.name.node.to_string(), InputShape { ty: v.ty.node, has_default: v.default_value.is_some() })
        })
        .collect()
}

fn boolean_argument() -> HashMap<String, InputShape> {
    let ty = Type::new("Boolean!").expect("a type");
    HashMap::from([("if".to_owned(), InputShape { ty, has_default: false })])
}

impl SchemaShape {
    /// Reads the shape from the schema's SDL.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut shape = Self {
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
            ..Self::default()
        };
        // Built in, and not printed in the SDL.
        shape.directives.insert("skip".into(), boolean_argument());
        shape.directives.insert("include".into(), boolean_argument());
        shape.scalars.extend(["Int", "Float", "String", "Boolean", "ID"].map(String::from));
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            tracing::error!("the schema's own SDL does not parse; requests are checked without it");
            return shape;
        };
        for definition in doc.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    if let Some(q) = schema.query {
                        shape.query = q.node.to_string();
                    }
                    if let Some(m) = schema.mutation {
                        shape.mutation = m.node.to_string();
                    }
                    if let Some(s) = schema.subscription {
                        shape.subscription = s.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let name = ty.name.node.to_string();
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => {
                            shape.abstract_types.insert(name.clone());
                            interface.fields
                        }
                        TypeKind::InputObject(input) => {
                            shape.inputs.insert(name, inputs(input.fields));
                            continue;
                        }
                        TypeKind::Enum(e) => {
                            let values =
                                e.values.into_iter().map(|v| v.node.value.node.to_string()).collect();
                            shape.enums.insert(name, values);
                            continue;
                        }
                        TypeKind::Scalar => {
                            shape.scalars.insert(name);
                            continue;
                        }
                        TypeKind::Union(_) => {
                            shape.abstract_types.insert(name);
                            continue;
                        }
                    };
                    let map = fields
                        .into_iter()
                        .map(|f| {
                            let f = f.node;
                            let mut base = &f.ty.node.base;
                            let mut list = false;
                            while let BaseType::List(inner) = base {
                                list = true;
                                base = &inner.base;
                            }
                            let type_name = match base {
                                BaseType::Named(name) => name.to_string(),
                                BaseType::List(_) => String::new(),
                            };
                            let args = inputs(f.arguments);
                            (f.name.node.to_string(), FieldShape { type_name, list, ty: f.ty.node, args })
                        })
                        .collect();
                    shape.fields.insert(name, map);
                }
                TypeSystemDefinition::Directive(directive) => {
                    let directive = directive.node;
                    shape.directives.insert(directive.name.node.to_string(), inputs(directive.arguments));
                }
            }
        }
        shape
    }

    /// A field of an object or interface type.
    pub fn field(&self, parent: &str, name: &str) -> Option<&FieldShape> {
        self.fields.get(parent)?.get(name)
    }
}
