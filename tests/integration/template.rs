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
    assert_eq!(tag(&globals["Architectures"][0]), ("!Ref".into(), "Architecture".into()));
    let arch = &t["Parameters"]["Architecture"];
    assert_eq!(
        (arch["Default"].as_str(), arch["AllowedValues"].clone()),
        (Some("arm64"), serde_yaml_ng::from_str("[arm64, x86_64]").unwrap())
    );
}

/// A `!Tag value` as (tag, value text).
fn tag(v: &Value) -> (String, String) {
    match v {
        Value::Tagged(t) => (t.tag.to_string(), serde_yaml_ng::to_string(&t.value).unwrap().trim().to_string()),
        other => panic!("not a tagged value: {other:?}"),
    }
}

fn functions(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn every_function_logs_to_its_own_group_with_retention_and_has_alarms() {
    let t = template();
    let resources = &t["Resources"];
    let fs = functions(&t);
    assert_eq!(fs.len(), Endpoint::ALL.len() + sessions_api::routes::OTHER_FUNCTIONS.len());
    for (name, f) in fs {
        let base = name.strip_suffix("Function").unwrap();
        let logging = &f["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{name}");
        let group = format!("{base}LogGroup");
        assert_eq!(tag(&logging["LogGroup"]), ("!Ref".into(), group.clone()), "{name}");
        assert_eq!(resources[&group]["Type"], "AWS::Logs::LogGroup");
        assert_eq!(
            tag(&resources[&group]["Properties"]["RetentionInDays"]),
            ("!Ref".into(), "LogRetentionDays".into())
        );
        for (alarm, metric) in [("ErrorsAlarm", "Errors"), ("ThrottlesAlarm", "Throttles")] {
            let a = &resources[&format!("{base}{alarm}")];
            assert_eq!(a["Type"], "AWS::CloudWatch::Alarm", "{name} {alarm}");
            let p = &a["Properties"];
            assert_eq!((p["Namespace"].as_str(), p["MetricName"].as_str()), (Some("AWS/Lambda"), Some(metric)));
            assert_eq!(p["Dimensions"][0]["Name"], "FunctionName");
            assert_eq!(tag(&p["Dimensions"][0]["Value"]), ("!Ref".into(), name.clone()));
            assert_eq!(tag(&p["AlarmActions"]).0, "!If", "{name} {alarm} notifies the optional topic");
        }
    }
    let api5xx = &resources["Api5xxAlarm"]["Properties"];
    assert_eq!((api5xx["Namespace"].as_str(), api5xx["MetricName"].as_str()), (Some("AWS/ApiGateway"), Some("5xx")));
    assert_eq!(tag(&api5xx["Dimensions"][0]["Value"]), ("!Ref".into(), "HttpApi".into()));
    assert_eq!(tag(&t["Conditions"]["HasAlarmTopic"]).0, "!Not");
}

#[test]
fn the_api_is_throttled_login_more_strictly_and_logs_json_without_secrets() {
    let t = template();
    let api = &t["Resources"]["HttpApi"]["Properties"];
    let default = &api["DefaultRouteSettings"];
    assert_eq!(tag(&default["ThrottlingRateLimit"]), ("!Ref".into(), "ApiRateLimit".into()));
    assert_eq!(tag(&default["ThrottlingBurstLimit"]), ("!Ref".into(), "ApiBurstLimit".into()));
    let login = &api["RouteSettings"]["POST /api/v1/login"];
    assert_eq!(tag(&login["ThrottlingRateLimit"]), ("!Ref".into(), "LoginRateLimit".into()));
    assert_eq!(tag(&login["ThrottlingBurstLimit"]), ("!Ref".into(), "LoginBurstLimit".into()));
    let p = &t["Parameters"];
    let default_of = |name: &str| p[name]["Default"].as_i64().unwrap();
    assert!(default_of("LoginRateLimit") < default_of("ApiRateLimit"));
    assert!(default_of("LoginBurstLimit") < default_of("ApiBurstLimit"));
    let logs = &api["AccessLogSettings"];
    assert_eq!(tag(&logs["DestinationArn"]), ("!GetAtt".into(), "ApiAccessLogGroup.Arn".into()));
    let format: serde_json::Value = serde_json::from_str(logs["Format"].as_str().unwrap()).expect("a JSON log line");
    let fields: Vec<&str> = format.as_object().unwrap().values().map(|v| v.as_str().unwrap()).collect();
    assert!(fields.contains(&"$context.requestId") && fields.contains(&"$context.status"));
    // Nothing that can hold a token, a password or a key: no header, query string, path or body.
    for f in fields {
        for forbidden in ["header", "querystring", "path", "body", "authorizer"] {
            assert!(!f.to_ascii_lowercase().contains(forbidden), "{f}");
        }
    }
    assert_eq!(
        tag(&t["Resources"]["ApiAccessLogGroup"]["Properties"]["RetentionInDays"]),
        ("!Ref".into(), "LogRetentionDays".into())
    );
}

/// Viewer location headers are anyone's to send unless CloudFront is in front and says so.
#[test]
fn cloudfront_geo_is_trusted_only_when_the_parameter_says_so() {
    let t = template();
    let p = &t["Parameters"]["BehindCloudFront"];
    assert_eq!(p["Default"], "false");
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(tag(&env["TRUST_CLOUDFRONT_GEO"]), ("!Ref".into(), "BehindCloudFront".into()));
    let config = sessions_api::Config::from_lookup(|k| (k == "TRUST_CLOUDFRONT_GEO").then(|| "false".to_string()));
    assert!(!config.unwrap().trust_cloudfront_geo);
}

#[test]
fn function_crates_are_exactly_the_endpoints() {
    let mut dirs: Vec<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut expected: Vec<String> = Endpoint::ALL.iter().map(|e| e.function().to_string()).collect();
    // The stream consumer and the authorizer, not HTTP routes.
    expected.extend(sessions_api::routes::OTHER_FUNCTIONS.map(String::from));
    expected.sort();
    assert_eq!(dirs, expected);
}

#[test]
fn the_stream_consumer_reads_the_tables_stream_with_images() {
    let t = template();
    let f = &t["Resources"]["SessionStreamFunction"];
    assert_eq!(f["Properties"]["CodeUri"].as_str(), Some("functions/session-stream"));
    // No SAM event: SAM would attach AWSLambdaDynamoDBExecutionRole (Streams actions on `*`) for
    // one; the mapping is its own resource and the role reads this table's streams only (iam.rs).
    assert!(f["Properties"]["Events"].is_null(), "the stream consumer has no SAM event");
    let mapping = &t["Resources"]["SessionStreamMapping"];
    assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
    let source = &mapping["Properties"];
    assert_eq!(tag(&source["FunctionName"]), ("!Ref".into(), "SessionStreamFunction".into()));
    assert_eq!(tag(&source["EventSourceArn"]), ("!GetAtt".into(), "SessionsTable.StreamArn".into()));
    assert_eq!(source["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(source["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert_eq!(source["FunctionResponseTypes"][0].as_str(), Some("ReportBatchItemFailures"));
    assert_eq!(
        tag(&source["DestinationConfig"]["OnFailure"]["Destination"]),
        ("!GetAtt".into(), "StreamDeadLetterQueue.Arn".into())
    );
    assert_eq!(source["FilterCriteria"]["Filters"].as_sequence().map(Vec::len), Some(5));
    assert_eq!(
        t["Resources"]["SessionsTable"]["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert_eq!(t["Resources"]["StreamDeadLetterAlarm"]["Properties"]["Namespace"].as_str(), Some("AWS/SQS"));
    assert_eq!(t["Resources"]["SessionsEventBus"]["Condition"].as_str(), Some("CreateEventBus"));
}

/// The optional CloudFront front: created only with `CloudFrontFront`, it sends the same
/// secret the functions check (a NoEcho parameter, empty in their environment otherwise),
/// caches nothing and forwards the viewer's headers and CloudFront's viewer headers but Host.
#[test]
fn the_cloudfront_front_sends_the_secret_the_functions_check() {
    let t = template();
    let secret = &t["Parameters"]["OriginVerifySecret"];
    assert_eq!((secret["NoEcho"].as_bool(), secret["Default"].as_str()), (Some(true), Some("")));
    assert_eq!(t["Parameters"]["CloudFrontFront"]["Default"], "false");
    let front = &t["Resources"]["ApiDistribution"];
    assert_eq!(front["Condition"], "CreateFront");
    let config = &front["Properties"]["DistributionConfig"];
    let header = &config["Origins"][0]["OriginCustomHeaders"][0];
    assert_eq!(
        header["HeaderName"].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some(sessions_api::routes::ORIGIN_VERIFY_HEADER)
    );
    assert_eq!(tag(&header["HeaderValue"]), ("!Ref".into(), "OriginVerifySecret".into()));
    let behaviour = &config["DefaultCacheBehavior"];
    assert_eq!(behaviour["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "Managed-CachingDisabled");
    assert_eq!(behaviour["OriginRequestPolicyId"], "b689b0a8-53d0-40ab-baf2-68738e2966ac", "AllViewerExceptHostHeader");
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    let (kind, value) = tag(&env["ORIGIN_VERIFY_SECRET"]);
    assert_eq!(kind, "!If");
    assert!(value.contains("CreateFront") && value.contains("!Ref OriginVerifySecret"), "{value}");
    // The front is refused without its secret and without BehindCloudFront (CloudFormation Rules).
    let rule = serde_yaml_ng::to_string(&t["Rules"]["FrontNeedsItsSecretAndTrust"]).unwrap();
    assert!(rule.contains("OriginVerifySecret") && rule.contains("BehindCloudFront"), "{rule}");
}

/// With `OriginDomainName`, the API has a custom domain of its own for CloudFront to call,
/// and its execute-api endpoint is disabled: nobody reaches the functions around CloudFront.
#[test]
fn an_origin_domain_closes_the_execute_api_endpoint() {
    let t = template();
    for p in ["OriginDomainName", "OriginCertificateArn", "OriginHostedZoneId"] {
        assert_eq!(t["Parameters"][p]["Default"], "", "{p}");
    }
    let condition = serde_yaml_ng::to_string(&t["Conditions"]["HasOriginDomain"]).unwrap();
    assert!(condition.contains("CreateFront") && condition.contains("OriginDomainName"), "{condition}");
    for r in ["ApiOriginDomain", "ApiOriginMapping", "ApiOriginRecord"] {
        assert_eq!(t["Resources"][r]["Condition"], "HasOriginDomain", "{r}");
    }
    let api = &t["Resources"]["HttpApi"]["Properties"];
    let (kind, value) = tag(&api["DisableExecuteApiEndpoint"]);
    assert_eq!(kind, "!If");
    assert!(value.contains("HasOriginDomain") && value.contains("true"), "{value}");
    let origin = &t["Resources"]["ApiDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"];
    let (kind, value) = tag(origin);
    assert_eq!(kind, "!If");
    assert!(value.contains("HasOriginDomain") && value.contains("!Ref OriginDomainName"), "{value}");
    let rule = serde_yaml_ng::to_string(&t["Rules"]["OriginDomainNeedsTheFrontItsCertificateAndZone"]).unwrap();
    assert!(
        ["CloudFrontFront", "OriginCertificateArn", "OriginHostedZoneId"].iter().all(|p| rule.contains(p)),
        "{rule}"
    );
}

/// `!If [condition, !Ref parameter, !Ref AWS::NoValue]` as (condition, parameter).
fn optional_ref(v: &Value) -> (String, String) {
    let Value::Tagged(t) = v else { panic!("not !If: {v:?}") };
    assert_eq!(t.tag, "!If");
    let parts = t.value.as_sequence().expect("!If list");
    assert_eq!(tag(&parts[2]), ("!Ref".into(), "AWS::NoValue".into()), "{v:?}");
    (parts[0].as_str().unwrap().to_string(), tag(&parts[1]).1)
}

/// A condition `!Not [!Equals [!Ref parameter, ""]]`'s parameter, and that parameter's default.
fn set_unless_empty(t: &Value, condition: &str) -> (String, String) {
    let text = serde_yaml_ng::to_string(&t["Conditions"][condition]).unwrap();
    let parameter = text.split("!Ref ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("").to_string();
    assert!(text.starts_with("!Not") && text.contains("!Equals") && text.contains("''"), "{condition}: {text}");
    let default = t["Parameters"][&parameter]["Default"].as_str().unwrap_or_else(|| panic!("{parameter}")).to_string();
    (parameter, default)
}

#[test]
fn every_function_may_be_given_reserved_concurrency_by_its_own_parameter() {
    let t = template();
    for (name, f) in functions(&t) {
        let base = name.strip_suffix("Function").unwrap();
        let (condition, parameter) = optional_ref(&f["Properties"]["ReservedConcurrentExecutions"]);
        assert_eq!(
            (condition.as_str(), parameter.as_str()),
            (&*format!("Reserve{base}"), &*format!("{base}ReservedConcurrency"))
        );
        assert_eq!(set_unless_empty(&t, &condition), (parameter.clone(), String::new()), "{name}: unset by default");
        assert_eq!(t["Parameters"][&parameter]["AllowedPattern"], "^([0-9]{1,5})?$", "{parameter}");
    }
}

#[test]
fn the_table_and_every_log_group_take_the_optional_customer_managed_keys() {
    let t = template();
    let sse = &t["Resources"]["SessionsTable"]["Properties"]["SSESpecification"];
    assert_eq!((sse["SSEEnabled"].as_bool(), sse["SSEType"].as_str()), (Some(true), Some("KMS")));
    assert_eq!(optional_ref(&sse["KMSMasterKeyId"]), ("HasTableKey".into(), "TableKmsKeyArn".into()));
    assert_eq!(set_unless_empty(&t, "HasTableKey"), ("TableKmsKeyArn".into(), String::new()));
    let groups: Vec<_> =
        t["Resources"].as_mapping().unwrap().values().filter(|r| r["Type"] == "AWS::Logs::LogGroup").collect();
    assert_eq!(groups.len(), functions(&t).len() + 1, "every function's group and the access log");
    for g in groups {
        assert_eq!(optional_ref(&g["Properties"]["KmsKeyId"]), ("HasLogsKey".into(), "LogsKmsKeyArn".into()));
    }
    assert_eq!(set_unless_empty(&t, "HasLogsKey"), ("LogsKmsKeyArn".into(), String::new()));
    for key in ["TableKmsKeyArn", "LogsKmsKeyArn"] {
        assert!(t["Parameters"][key]["AllowedPattern"].as_str().unwrap().contains(":kms:"), "{key}");
    }
}

/// checkov's skips (`Metadata.checkov.skip`): only the rules that do not apply, each with its
/// one-sentence reason. A rule skipped anywhere else is a finding hidden, and fails here.
#[test]
fn every_checkov_skip_is_a_rule_that_does_not_apply_with_its_reason() {
    let t = template();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let expected: &[&str] = match r["Type"].as_str().unwrap() {
            "AWS::Serverless::Function" => &["CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"],
            "AWS::SQS::Queue" => &["CKV_AWS_27"],
            _ => &[],
        };
        let skips = r["Metadata"]["checkov"]["skip"].as_sequence().cloned().unwrap_or_default();
        let ids: Vec<&str> = skips.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids, expected, "{name:?}");
        for s in &skips {
            let reason = s["comment"].as_str().unwrap_or("");
            assert!(reason.len() > 60 && reason.ends_with('.'), "{name:?} {:?}: no reason given", s["id"]);
        }
    }
}
