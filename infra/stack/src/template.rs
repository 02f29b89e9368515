//! The DynamoDB tables of `template.yaml`, parsed from the file itself (embedded at build
//! time), so the local bootstrap cannot drift from what AWS gets.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `template.yaml`, as compiled in.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

/// A table's shape: what the local bootstrap must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// Attribute name → type (`S`, `N`, `B`).
    pub attributes: BTreeMap<String, String>,
    /// `(attribute, HASH | RANGE)`, in key order.
    pub key_schema: Vec<(String, String)>,
    pub indexes: Vec<IndexSpec>,
    /// `Some(view type)` when the table has a stream.
    pub stream_view_type: Option<String>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub key_schema: Vec<(String, String)>,
    pub projection_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("table {0} in template.yaml: {1}")]
    Table(String, String),
    #[error("stream trigger {0} in template.yaml: {1}")]
    Trigger(String, String),
}

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, Resource>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Properties", default)]
    properties: serde_yaml_ng::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableProperties {
    attribute_definitions: Vec<AttributeDefinition>,
    key_schema: Vec<KeyElement>,
    #[serde(default)]
    global_secondary_indexes: Vec<Gsi>,
    #[serde(default)]
    stream_specification: Option<StreamSpecification>,
    #[serde(default)]
    time_to_live_specification: Option<Ttl>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Gsi {
    index_name: String,
    key_schema: Vec<KeyElement>,
    projection: Projection,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Projection {
    projection_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSpecification {
    stream_view_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ttl {
    attribute_name: String,
    enabled: bool,
}

fn keys(elements: Vec<KeyElement>) -> Vec<(String, String)> {
    elements
        .into_iter()
        .map(|k| (k.attribute_name, k.key_type))
        .collect()
}

/// Every `AWS::DynamoDB::Table` in a template, by logical id.
pub fn tables(yaml: &str) -> Result<Vec<TableSpec>, TemplateError> {
    let template: Template = serde_yaml_ng::from_str(yaml)?;
    template
        .resources
        .into_iter()
        .filter(|(_, r)| r.kind == "AWS::DynamoDB::Table")
        .map(|(logical_id, resource)| {
            let props: TableProperties = serde_yaml_ng::from_value(resource.properties)
                .map_err(|e| TemplateError::Table(logical_id.clone(), e.to_string()))?;
            let mut indexes: Vec<IndexSpec> = props
                .global_secondary_indexes
                .into_iter()
                .map(|g| IndexSpec {
                    name: g.index_name,
                    key_schema: keys(g.key_schema),
                    projection_type: g.projection.projection_type,
                })
                .collect();
            indexes.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(TableSpec {
                logical_id,
                attributes: props
                    .attribute_definitions
                    .into_iter()
                    .map(|a| (a.attribute_name, a.attribute_type))
                    .collect(),
                key_schema: keys(props.key_schema),
                indexes,
                stream_view_type: props.stream_specification.map(|s| s.stream_view_type),
                ttl_attribute: props
                    .time_to_live_specification
                    .filter(|t| t.enabled)
                    .map(|t| t.attribute_name),
            })
        })
        .collect()
}

/// Something that feeds a DynamoDB stream to a function: a SAM function's `Type: DynamoDB`
/// event, or an `AWS::Lambda::EventSourceMapping`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTrigger {
    /// `<Function>.<Event>` for a SAM event, the resource's logical id for a mapping.
    pub name: String,
    /// The table whose stream it reads, when named with `GetAtt <Table>.StreamArn`.
    pub table: Option<String>,
    /// `ParallelizationFactor` as written; `None` when left out (AWS's default is 1).
    pub parallelization_factor: Option<u64>,
}

/// The table behind `!GetAtt T.StreamArn` or `{"Fn::GetAtt": [T, StreamArn]}`.
fn stream_table(arn: &serde_yaml_ng::Value) -> Option<String> {
    use serde_yaml_ng::Value;
    let target = match arn {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.clone(),
        Value::Mapping(map) => map.get("Fn::GetAtt")?.clone(),
        _ => return None,
    };
    match target {
        Value::String(dotted) => dotted.strip_suffix(".StreamArn").map(str::to_owned),
        Value::Sequence(parts) if parts.len() == 2 && parts[1] == "StreamArn" => {
            parts[0].as_str().map(str::to_owned)
        }
        _ => None,
    }
}

fn trigger(
    name: String,
    props: &serde_yaml_ng::Value,
    arn_key: &str,
) -> Result<StreamTrigger, TemplateError> {
    let parallelization_factor = match props.get("ParallelizationFactor") {
        None => None,
        Some(value) => Some(value.as_u64().ok_or_else(|| {
            TemplateError::Trigger(
                name.clone(),
                format!("ParallelizationFactor is not a literal whole number: {value:?}"),
            )
        })?),
    };
    Ok(StreamTrigger {
        table: props.get(arn_key).and_then(stream_table),
        parallelization_factor,
        name,
    })
}

/// Every DynamoDB stream trigger in a template.
pub fn stream_triggers(yaml: &str) -> Result<Vec<StreamTrigger>, TemplateError> {
    let template: Template = serde_yaml_ng::from_str(yaml)?;
    let mut triggers = Vec::new();
    for (logical_id, resource) in template.resources {
        match resource.kind.as_str() {
            "AWS::Serverless::Function" => {
                let Some(events) = resource
                    .properties
                    .get("Events")
                    .and_then(|e| e.as_mapping())
                else {
                    continue;
                };
                for (event, spec) in events {
                    if spec.get("Type").and_then(|t| t.as_str()) != Some("DynamoDB") {
                        continue;
                    }
                    let event = event.as_str().unwrap_or("?");
                    let empty = serde_yaml_ng::Value::Null;
                    let props = spec.get("Properties").unwrap_or(&empty);
                    triggers.push(trigger(format!("{logical_id}.{event}"), props, "Stream")?);
                }
            }
            "AWS::Lambda::EventSourceMapping" => {
                let props = &resource.properties;
                let arn = props.get("EventSourceArn");
                let is_dynamodb_stream = arn.and_then(stream_table).is_some()
                    || arn
                        .and_then(|a| a.as_str())
                        .is_some_and(|a| a.contains(":dynamodb:"));
                if is_dynamodb_stream {
                    triggers.push(trigger(logical_id, props, "EventSourceArn")?);
                }
            }
            _ => {}
        }
    }
    Ok(triggers)
}

/// The tables of the compiled-in `template.yaml`.
pub fn template_tables() -> Result<Vec<TableSpec>, TemplateError> {
    tables(TEMPLATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_declares_the_app_table() {
        let tables = template_tables().unwrap();
        let app = tables.iter().find(|t| t.logical_id == "AppTable").unwrap();
        assert_eq!(
            app.key_schema,
            vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]
        );
        assert_eq!(app.indexes.len(), 1);
        assert_eq!(app.indexes[0].name, "gsi1");
        assert_eq!(app.stream_view_type, None);
        assert_eq!(app.ttl_attribute.as_deref(), Some("expires_at"));
    }

    #[test]
    fn intrinsic_functions_elsewhere_do_not_break_parsing() {
        let yaml = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      X: !Ref Y\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      AttributeDefinitions: [{AttributeName: id, AttributeType: N}]\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      StreamSpecification: {StreamViewType: NEW_IMAGE}\n";
        let tables = tables(yaml).unwrap();
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].stream_view_type.as_deref(), Some("NEW_IMAGE"));
    }

    #[test]
    fn stream_triggers_are_found_in_both_spellings() {
        let yaml = r#"
Resources:
  Agg:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api: {Type: HttpApi, Properties: {Path: /x, Method: GET}}
        Feed:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Events.StreamArn, ParallelizationFactor: 1}
  Other:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: {"Fn::GetAtt": [Events, StreamArn]}
      FunctionName: !Ref Agg
  Queue:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt SomeQueue.Arn
"#;
        let triggers = stream_triggers(yaml).unwrap();
        assert_eq!(
            triggers,
            vec![
                StreamTrigger {
                    name: "Agg.Feed".into(),
                    table: Some("Events".into()),
                    parallelization_factor: Some(1),
                },
                StreamTrigger {
                    name: "Other".into(),
                    table: Some("Events".into()),
                    parallelization_factor: None,
                },
            ]
        );
        let raised = yaml.replace("ParallelizationFactor: 1", "ParallelizationFactor: !Ref P");
        assert!(matches!(
            stream_triggers(&raised),
            Err(TemplateError::Trigger(name, _)) if name == "Agg.Feed"
        ));
    }
}
