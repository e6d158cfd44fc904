use super::*;

#[test]
fn a_policy_reads_its_manifest_form_and_refuses_unknown_fields() {
    let policy: Policy = serde_json::from_value(serde_json::json!({
        "read": ["/data"], "write": ["/out"], "memory_mb": 512, "env": ["HOME"]
    }))
    .unwrap();
    assert_eq!(policy.read, vec![PathBuf::from("/data")]);
    assert!(!policy.network);
    assert_eq!(policy.memory_mb, Some(512));
    assert_eq!(policy.cpu_s, None);
    let wrong = serde_json::from_value::<Policy>(serde_json::json!({"netwrok": true}));
    assert!(wrong.unwrap_err().to_string().contains("netwrok"));
}

#[test]
fn the_environment_holds_only_the_named_variables_the_host_has() {
    let policy = Policy {
        env: vec!["PATH".into(), "REMOTEMEDIA_SURELY_UNSET_VARIABLE".into()],
        ..Policy::default()
    };
    let names: Vec<String> = policy.environment().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, vec!["PATH".to_owned()]);
}

#[test]
fn a_test_process_with_threads_is_refused_before_anything_is_restricted() {
    // The test harness runs tests on threads of their own: the process is never alone.
    let error = enter(&Policy::default(), &[]).unwrap_err().to_string();
    assert!(
        error.contains("before the worker starts threads"),
        "{error}"
    );
}
