//! deploy/prometheus/alerts.yml: Prometheus's own checker accepts it, and every Strata
//! metric it names is one the compute node exports (so renaming a metric cannot
//! silently break an alert).

use std::path::PathBuf;

fn alerts_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus/alerts.yml")
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let output = std::process::Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(alerts_file())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool ({e}): install Debian's prometheus package (scripts/test does)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("SUCCESS: 8 rules found"), "{stdout}");
}

#[test]
fn alert_rules_name_only_exported_metrics() {
    let text = std::fs::read_to_string(alerts_file()).expect("alerts.yml");
    let mut named = Vec::new();
    for (i, _) in text.match_indices("strata_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        named.push(name);
    }
    assert!(named.len() >= 8, "{named:?}");
    for name in named {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name);
        assert!(
            strata_server::metrics::FAMILIES.contains(&family),
            "alerts.yml names {name}, which the compute node does not export"
        );
    }
}

#[test]
fn the_grafana_dashboard_is_json_over_exported_metrics() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/strata.json");
    let text = std::fs::read_to_string(path).expect("strata.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10);
    for panel in panels {
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            for (i, _) in expr.match_indices("strata_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let family = name.strip_suffix("_bucket").unwrap_or(&name);
                assert!(
                    strata_server::metrics::FAMILIES.contains(&family),
                    "the dashboard names {name}, which the compute node does not export"
                );
            }
        }
    }
}
