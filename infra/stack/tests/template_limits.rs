//! The abuse limits a deployment gets (issue 13 §1): stage and per-route throttling,
//! optional reserved concurrency for the public functions, and an optional budget alarm,
//! read from `template.yaml` itself.

use pingoo_stack::template::TEMPLATE;
use serde_yaml_ng::Value;

fn template() -> Value {
    serde_yaml_ng::from_str(TEMPLATE).expect("template.yaml parses")
}

/// The value at a path of mapping keys.
fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| {
        v.get(k)
            .unwrap_or_else(|| panic!("template.yaml has no {k} in {path:?}"))
    })
}

/// A value as YAML text (intrinsic functions show as `!Ref X`).
fn text(v: &Value) -> String {
    serde_yaml_ng::to_string(v).unwrap_or_default()
}

fn parameter_default(t: &Value, name: &str) -> String {
    text(at(t, &["Parameters", name, "Default"]))
        .trim()
        .to_owned()
}

#[test]
fn every_route_is_throttled_by_the_stage_and_the_costly_ones_more_tightly() {
    let t = template();
    let stage = at(
        t.get("Resources").unwrap(),
        &["HttpApi", "Properties", "DefaultRouteSettings"],
    );
    assert!(
        text(stage).contains("ThrottlingRateLimit: !Ref ApiRateLimit"),
        "{}",
        text(stage)
    );
    assert!(text(stage).contains("ThrottlingBurstLimit: !Ref ApiBurstLimit"));

    let events = |function: &str| at(&t, &["Resources", function, "Properties", "Events"]).clone();
    let route = |events: &Value, path: &str, method: &str| -> String {
        let found = events
            .as_mapping()
            .unwrap()
            .values()
            .find(|e| {
                text(at(e, &["Properties", "Path"])).trim() == path
                    && text(at(e, &["Properties", "Method"])).trim() == method
            })
            .unwrap_or_else(|| panic!("no route {method} {path}"));
        text(
            found
                .get("Properties")
                .and_then(|p| p.get("RouteSettings"))
                .unwrap_or(&Value::Null),
        )
    };
    let auth = events("AuthFunction");
    for (path, method) in [
        ("/api/auth/login", "POST"),
        ("/api/auth/register", "POST"),
        ("/api/auth/password", "PUT"),
        ("/api/auth/profile", "PUT"),
    ] {
        let settings = route(&auth, path, method);
        assert!(
            settings.contains("!Ref AuthRateLimit"),
            "{method} {path}: {settings}"
        );
        assert!(
            settings.contains("!Ref AuthBurstLimit"),
            "{method} {path}: {settings}"
        );
    }
    let collect = events("CollectFunction");
    for path in ["/send", "/api/send", "/api/collect"] {
        let settings = route(&collect, path, "ANY");
        assert!(
            settings.contains("!Ref BeaconRateLimit"),
            "{path}: {settings}"
        );
        assert!(
            settings.contains("!Ref BeaconBurstLimit"),
            "{path}: {settings}"
        );
    }
    // Sane defaults: sign-in far below the stage, the beacon above it.
    let n = |p: &str| parameter_default(&t, p).parse::<u64>().unwrap();
    assert!(n("AuthRateLimit") < n("ApiRateLimit"));
    assert!(n("BeaconRateLimit") > n("ApiRateLimit"));
    assert!(n("AuthBurstLimit") < n("ApiBurstLimit"));
}

#[test]
fn public_functions_can_reserve_concurrency_and_do_not_by_default() {
    let t = template();
    for (function, parameter) in [
        ("CollectFunction", "CollectReservedConcurrency"),
        ("AuthFunction", "AuthReservedConcurrency"),
    ] {
        let reserved = text(at(
            &t,
            &[
                "Resources",
                function,
                "Properties",
                "ReservedConcurrentExecutions",
            ],
        ));
        assert!(
            reserved.contains(&format!("!Ref {parameter}")),
            "{function}: {reserved}"
        );
        assert!(
            reserved.contains("AWS::NoValue"),
            "{function}: 0 must mean unreserved"
        );
        assert_eq!(parameter_default(&t, parameter), "0");
    }
}

#[test]
fn a_monthly_budget_alarm_is_there_when_asked_for() {
    let t = template();
    let budget = at(&t, &["Resources", "MonthlyBudget"]);
    assert_eq!(text(at(budget, &["Type"])).trim(), "AWS::Budgets::Budget");
    assert_eq!(text(at(budget, &["Condition"])).trim(), "HasBudget");
    let props = text(at(budget, &["Properties"]));
    assert!(props.contains("!Ref MonthlyBudgetUsd"), "{props}");
    assert!(props.contains("SubscriptionType: SNS") && props.contains("!Ref AlarmTopicArn"));
    assert!(props.contains("SubscriptionType: EMAIL") && props.contains("!Ref BudgetEmail"));
    assert_eq!(parameter_default(&t, "MonthlyBudgetUsd"), "0");
    let condition = text(at(&t, &["Conditions", "HasBudget"]));
    assert!(condition.contains("MonthlyBudgetUsd"), "{condition}");
}

/// The statement `sid` of a function's inline policy.
fn statement<'a>(t: &'a Value, function: &str, sid: &str) -> &'a Value {
    at(t, &["Resources", function, "Properties", "Policies"])
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("Statement").and_then(Value::as_sequence))
        .flatten()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
        .unwrap_or_else(|| panic!("{function} has no statement {sid}"))
}

fn leading_keys(statement: &Value) -> Vec<String> {
    let mut keys: Vec<String> = at(
        statement,
        &[
            "Condition",
            "ForAllValues:StringLike",
            "dynamodb:LeadingKeys",
        ],
    )
    .as_sequence()
    .into_iter()
    .flatten()
    .filter_map(|v| v.as_str().map(str::to_owned))
    .collect();
    keys.sort();
    keys
}

#[test]
fn the_public_and_background_functions_reach_only_their_own_app_table_items() {
    let t = template();
    // The beacon finds a site by its tracking id; the aggregator reads sites; the janitor
    // deletes finished purge jobs. None of them can read a user, a password hash, an API
    // key, an attempt counter or a token family.
    for (function, sid, keys) in [
        ("CollectFunction", "AppTableRead", vec!["SITE#*", "TRACK#*"]),
        ("AggregatorFunction", "SiteRead", vec!["SITE#*"]),
        ("JanitorFunction", "PurgeJobDone", vec!["PURGE#*"]),
    ] {
        let s = statement(&t, function, sid);
        assert_eq!(leading_keys(s), keys, "{function} {sid}");
        for forbidden in ["USER#", "EMAIL#", "KEY#", "LIMIT#", "FAMILY#"] {
            assert!(
                !leading_keys(s)
                    .iter()
                    .any(|k| forbidden.starts_with(k.trim_end_matches('*'))),
                "{function} may reach {forbidden} items"
            );
        }
    }
}

#[test]
fn the_events_function_writes_only_attempt_counters_and_key_use_in_the_app_table() {
    // It serves share unlocks (attempt counters) and API-key requests (last_used_at);
    // without these statements both fail with AccessDenied on AWS. Nothing more.
    let t = template();
    for (sid, keys, actions) in [
        (
            "ShareUnlockAttempts",
            vec!["LIMIT#*"],
            vec!["dynamodb:DeleteItem", "dynamodb:UpdateItem"],
        ),
        ("KeyLastUsed", vec!["KEY#*"], vec!["dynamodb:UpdateItem"]),
    ] {
        let s = statement(&t, "EventsFunction", sid);
        assert_eq!(leading_keys(s), keys, "{sid}");
        let mut granted: Vec<&str> = s["Action"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        granted.sort_unstable();
        assert_eq!(granted, actions, "{sid}");
    }
}

/// Issue 16 §1: `BeaconEndpoint=FunctionUrl` adds a public Function URL to collect (and
/// only then), with both permissions a new public URL needs, CORS for the beacon only,
/// and the URL as an output; the default keeps every route behind API Gateway.
#[test]
fn the_beacon_function_url_is_opt_in_public_and_narrow() {
    let t = template();
    assert_eq!(parameter_default(&t, "BeaconEndpoint"), "ApiGateway");
    assert_eq!(
        text(at(&t, &["Conditions", "BeaconOnFunctionUrl"])).trim(),
        "!Equals\n- !Ref BeaconEndpoint\n- FunctionUrl"
    );
    let resources = at(&t, &["Resources"]);
    for name in [
        "CollectFunctionUrl",
        "CollectFunctionUrlPermission",
        "CollectFunctionUrlInvokePermission",
    ] {
        assert_eq!(
            text(at(resources, &[name, "Condition"])).trim(),
            "BeaconOnFunctionUrl",
            "{name}"
        );
    }
    let url = at(resources, &["CollectFunctionUrl", "Properties"]);
    assert_eq!(text(at(url, &["AuthType"])).trim(), "NONE");
    assert!(text(at(url, &["TargetFunctionArn"])).contains("CollectFunction.Arn"));
    let cors = at(url, &["Cors"]);
    assert_eq!(text(at(cors, &["AllowMethods"])).trim(), "- GET\n- POST");
    assert_eq!(text(at(cors, &["AllowHeaders"])).trim(), "- content-type");
    assert!(cors.get("AllowCredentials").is_none());

    let public = at(resources, &["CollectFunctionUrlPermission", "Properties"]);
    assert_eq!(
        text(at(public, &["Action"])).trim(),
        "lambda:InvokeFunctionUrl"
    );
    assert_eq!(text(at(public, &["FunctionUrlAuthType"])).trim(), "NONE");
    let invoke = at(
        resources,
        &["CollectFunctionUrlInvokePermission", "Properties"],
    );
    assert_eq!(
        text(at(invoke, &["Action"])).trim(),
        "lambda:InvokeFunction"
    );
    // Only through the URL: without this the function would be invokable by anyone.
    assert_eq!(text(at(invoke, &["InvokedViaFunctionUrl"])).trim(), "true");
    for permission in [public, invoke] {
        assert_eq!(
            text(at(permission, &["FunctionName"])).trim(),
            "!Ref CollectFunction"
        );
    }
    assert_eq!(
        text(at(&t, &["Outputs", "BeaconUrl", "Condition"])).trim(),
        "BeaconOnFunctionUrl"
    );
    // The dashboard learns the URL (GET /api/auth/config) for its snippets.
    assert!(
        text(at(
            resources,
            &[
                "AuthFunction",
                "Properties",
                "Environment",
                "Variables",
                "BEACON_URL"
            ]
        ))
        .contains("CollectFunctionUrl.FunctionUrl")
    );
    // The API Gateway beacon routes stay either way.
    let events = at(resources, &["CollectFunction", "Properties", "Events"]);
    for route in ["Send", "ApiSend", "Collect", "Tracker"] {
        assert!(events.get(route).is_some(), "{route}");
        assert!(events[route].get("Condition").is_none(), "{route}");
    }
}

/// Issue 16 §2: the beacon's Lambda writes no START/END/REPORT lines, samples its own.
#[test]
fn the_beacon_function_logs_lean() {
    let t = template();
    let collect = at(&t, &["Resources", "CollectFunction", "Properties"]);
    let logging = at(collect, &["LoggingConfig"]);
    assert_eq!(text(at(logging, &["LogFormat"])).trim(), "JSON");
    assert_eq!(text(at(logging, &["SystemLogLevel"])).trim(), "WARN");
    assert_eq!(text(at(logging, &["ApplicationLogLevel"])).trim(), "INFO");
    assert_eq!(
        text(at(
            collect,
            &["Environment", "Variables", "BEACON_LOG_SAMPLE"]
        ))
        .trim(),
        "!Ref BeaconLogSample"
    );
    assert_eq!(parameter_default(&t, "BeaconLogSample"), "100");
    assert_eq!(parameter_default(&t, "RetentionDays"), "0");
    assert_eq!(
        text(at(
            &t,
            &[
                "Globals",
                "Function",
                "Environment",
                "Variables",
                "RETENTION_DAYS"
            ]
        ))
        .trim(),
        "!Ref RetentionDays"
    );
}
