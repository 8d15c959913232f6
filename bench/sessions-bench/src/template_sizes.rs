//! Each function's `MemorySize` in template.yaml: the global one (`Globals.Function`) unless
//! its resource sets its own; and which functions open the geolocation database. A function
//! is named by the binary its resource builds (`Metadata.BuildProperties.Binary`), its name
//! under functions/ and in events/.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::Value;

/// Memory sizes of the template's functions.
#[derive(Clone, Debug, PartialEq)]
pub struct MemorySizes {
    /// `Globals.Function.MemorySize`.
    pub global: u32,
    /// Every function's size, by binary name.
    pub by_function: BTreeMap<String, u32>,
    /// The functions whose resource sets its own size.
    pub overridden: Vec<String>,
    /// The functions that open the geolocation database (`GEO_DB_DIR` in their environment).
    pub with_geo_db: Vec<String>,
}

fn size(v: &Value) -> Option<u32> {
    v.get("MemorySize").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok())
}

impl MemorySizes {
    /// The sizes in template.yaml's text.
    pub fn parse(yaml: &str) -> Result<MemorySizes, String> {
        let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| format!("template: {e}"))?;
        let global = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(size)
            .ok_or("template: no Globals.Function.MemorySize")?;
        let resources = doc.get("Resources").and_then(Value::as_mapping).ok_or("template: no Resources")?;
        let mut sizes =
            MemorySizes { global, by_function: BTreeMap::new(), overridden: Vec::new(), with_geo_db: Vec::new() };
        for resource in resources.values() {
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let binary = resource.get("Metadata").and_then(|m| m.get("BuildProperties")).and_then(|b| b.get("Binary"));
            let Some(binary) = binary.and_then(Value::as_str) else { continue };
            let properties = resource.get("Properties");
            let variables = properties.and_then(|p| p.get("Environment")).and_then(|e| e.get("Variables"));
            if variables.and_then(|v| v.get("GEO_DB_DIR")).is_some() {
                sizes.with_geo_db.push(binary.to_string());
            }
            let own = properties.and_then(size);
            if own.is_some() {
                sizes.overridden.push(binary.to_string());
            }
            sizes.by_function.insert(binary.to_string(), own.unwrap_or(global));
        }
        sizes.overridden.sort();
        sizes.with_geo_db.sort();
        Ok(sizes)
    }

    /// The sizes in the template at `path`.
    pub fn read(path: &Path) -> Result<MemorySizes, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        MemorySizes::parse(&text)
    }

    /// The size `function` runs with; `None` when the template has no such function.
    pub fn of(&self, function: &str) -> Option<u32> {
        self.by_function.get(function).copied()
    }

    /// The size `function` runs with, the global one if the template has no such function yet.
    pub fn size_of(&self, function: &str) -> u32 {
        self.of(function).unwrap_or(self.global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Globals:
  Function:
    Runtime: provided.al2023
    MemorySize: 256
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Ref Name
  LoginFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: login
    Properties:
      CodeUri: functions/login
      MemorySize: 1024
      Environment:
        Variables:
          GEO_DB_DIR: /opt/geo
  MeFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: me
    Properties:
      Description: !Sub "${AWS::StackName} me"
"#;

    #[test]
    fn a_function_has_its_own_size_or_the_global_one() {
        let sizes = MemorySizes::parse(TEMPLATE).unwrap();
        assert_eq!(sizes.global, 256);
        assert_eq!(sizes.of("login"), Some(1024));
        assert_eq!(sizes.of("me"), Some(256));
        assert_eq!(sizes.of("logout"), None);
        assert_eq!(sizes.size_of("logout"), 256);
        assert_eq!(sizes.overridden, vec!["login".to_string()]);
        assert_eq!(sizes.with_geo_db, vec!["login".to_string()]);
    }

    #[test]
    fn a_template_without_a_global_size_is_an_error() {
        let err = MemorySizes::parse("Resources: {}\n").unwrap_err();
        assert!(err.contains("Globals.Function.MemorySize"), "{err}");
    }
}
