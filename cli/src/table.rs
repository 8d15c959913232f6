//! Creates the DynamoDB table from template.yaml's own definition (one source of truth).

use std::path::Path;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Deserialize;

use crate::CliError;

/// The `AWS::DynamoDB::Table` resource's properties that matter for creating it.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttrDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    #[serde(default)]
    pub time_to_live_specification: Option<TtlDef>,
    #[serde(default)]
    pub stream_specification: Option<StreamDef>,
}

/// The table's stream: DynamoDB Local serves it through the Streams API (stream::local).
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDef {
    pub stream_view_type: String,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttrDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

impl TableDefinition {
    /// Reads the single `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
    pub fn from_template(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
        Self::from_template_text(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
    }

    pub fn from_template_text(text: &str) -> Result<Self, String> {
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        let resources = doc.get("Resources").and_then(|r| r.as_mapping()).ok_or("no Resources section")?;
        let mut tables =
            resources.values().filter(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::DynamoDB::Table"));
        let table = tables.next().ok_or("no AWS::DynamoDB::Table resource")?;
        if tables.next().is_some() {
            return Err("more than one AWS::DynamoDB::Table resource".into());
        }
        let props = table.get("Properties").cloned().ok_or("the table has no Properties")?;
        serde_yaml_ng::from_value(props).map_err(|e| format!("table Properties: {e}"))
    }
}

fn key(k: &KeyDef) -> Result<KeySchemaElement, CliError> {
    KeySchemaElement::builder()
        .attribute_name(&k.attribute_name)
        .key_type(KeyType::from(k.key_type.as_str()))
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Creates `name` as defined; an existing table is left as it is (`Ok(false)`).
pub async fn create_table(client: &Client, name: &str, def: &TableDefinition) -> Result<bool, CliError> {
    let mut req = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for a in &def.attribute_definitions {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(|e| CliError::Usage(e.to_string()))?,
        );
    }
    for k in &def.key_schema {
        req = req.key_schema(key(k)?);
    }
    for g in &def.global_secondary_indexes {
        let mut projection =
            Projection::builder().projection_type(ProjectionType::from(g.projection.projection_type.as_str()));
        for a in &g.projection.non_key_attributes {
            projection = projection.non_key_attributes(a);
        }
        let mut index = GlobalSecondaryIndex::builder().index_name(&g.index_name).projection(projection.build());
        for k in &g.key_schema {
            index = index.key_schema(key(k)?);
        }
        req = req.global_secondary_indexes(index.build().map_err(|e| CliError::Usage(e.to_string()))?);
    }
    if let Some(stream) = &def.stream_specification {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(stream.stream_view_type.as_str()))
                .build()
                .map_err(|e| CliError::Usage(e.to_string()))?,
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(false),
        Err(e) => return Err(CliError::Aws(DisplayErrorContext(e).to_string())),
    }
    if let Some(ttl) = &def.time_to_live_specification {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(&ttl.attribute_name)
                    .enabled(ttl.enabled)
                    .build()
                    .map_err(|e| CliError::Usage(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| CliError::Aws(DisplayErrorContext(e).to_string()))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_project_template() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let def = TableDefinition::from_template(&path).unwrap();
        assert_eq!(def.key_schema.len(), 2);
        assert_eq!(def.key_schema[0].attribute_name, "PK");
        assert!(def.global_secondary_indexes.iter().any(|g| g.index_name == "BySessionId"));
        assert_eq!(def.time_to_live_specification.unwrap().attribute_name, "expiresAt");
    }

    #[test]
    fn explains_a_template_without_a_table() {
        let e = TableDefinition::from_template_text("Resources:\n  X:\n    Type: AWS::SNS::Topic\n").unwrap_err();
        assert!(e.contains("no AWS::DynamoDB::Table"), "{e}");
        assert!(TableDefinition::from_template_text("not: [yaml").is_err());
    }
}
