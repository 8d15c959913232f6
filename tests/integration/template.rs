//! template.yaml wires exactly the endpoints the route table has, each to its crate.

use serde_yaml_ng::Value;
use sessions_api::Endpoint;

use crate::support::repo_root;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    // CloudFormation tags (!Ref, !GetAtt) stay tagged values, which these checks do not read.
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn every_endpoint_is_one_function_with_its_route() {
    let t = template();
    let is_http =
        |r: &Value| r["Properties"]["Events"].as_mapping().is_some_and(|e| e.values().any(|e| e["Type"] == "HttpApi"));
    let functions: Vec<&Value> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function" && is_http(r))
        .collect();
    assert_eq!(functions.len(), Endpoint::ALL.len());
    for e in Endpoint::ALL {
        let f = functions
            .iter()
            .find(|f| f["Metadata"]["BuildProperties"]["Binary"] == e.function())
            .unwrap_or_else(|| panic!("no function builds {}", e.function()));
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
        assert_eq!(f["Properties"]["CodeUri"].as_str(), Some(format!("functions/{}", e.function()).as_str()));
        let events: Vec<&Value> = f["Properties"]["Events"].as_mapping().unwrap().values().collect();
        assert_eq!(events.len(), e.methods().len(), "{}", e.function());
        for (event, method) in events.iter().zip(e.methods()) {
            assert_eq!(event["Type"], "HttpApi");
            assert_eq!(event["Properties"]["Path"], e.path());
            assert_eq!(event["Properties"]["Method"], *method);
        }
        let manifest = std::fs::read_to_string(repo_root().join("functions").join(e.function()).join("Cargo.toml"))
            .unwrap_or_else(|_| panic!("functions/{} has no Cargo.toml", e.function()));
        assert!(manifest.contains(&format!("name = \"{}\"", e.function())));
    }
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
}

#[test]
fn function_crates_are_exactly_the_endpoints() {
    let mut dirs: Vec<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut expected: Vec<String> = Endpoint::ALL.iter().map(|e| e.function().to_string()).collect();
    expected.push("session-expiry".to_string()); // the stream consumer, not an HTTP route
    expected.sort();
    assert_eq!(dirs, expected);
}

#[test]
fn the_expiry_consumer_reads_the_tables_stream() {
    let t = template();
    let f = &t["Resources"]["SessionExpiryFunction"];
    assert_eq!(f["Properties"]["CodeUri"].as_str(), Some("functions/session-expiry"));
    assert_eq!(f["Properties"]["Events"]["Expired"]["Type"].as_str(), Some("DynamoDB"));
    assert_eq!(
        t["Resources"]["SessionsTable"]["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
        Some("KEYS_ONLY")
    );
}
