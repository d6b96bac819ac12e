//! `deploy/` (Compose, Kubernetes, the Dockerfile, nginx) cannot be run
//! here (no Docker, no cluster), so this is its check: every file parses
//! (YAML with `yaml_serde`, every document), every `TOKEN_SERVICE_*` and
//! `PELIQAN_*` name in any file is a setting the service reads
//! ([`settings::is_key`]), the probes and the load balancer name real
//! routes ([`routes::ENDPOINTS`]), every `*_FILE` setting points at a
//! secret that is mounted there, and the files the manifests refer to
//! exist.

use peliqan_token_service::routes::ENDPOINTS;
use peliqan_token_service::settings;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_serde::Value;

const PREFIXES: &[&str] = &["TOKEN_SERVICE_", "PELIQAN_"];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Every file under `deploy/`, sorted, as (path relative to it, text).
fn files() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, text));
            }
        }
    }
    let root = deploy_dir();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Every document of a YAML file.
fn documents(path: &str, text: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).unwrap_or_else(|e| panic!("deploy/{path} does not parse: {e}"))
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn yaml(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy_dir().join(path))
        .unwrap_or_else(|e| panic!("deploy/{path}: {e}"));
    documents(path, &text)
}

/// The one document of `path` whose `kind` is `kind`.
fn manifest(path: &str, kind: &str) -> Value {
    let mut docs: Vec<Value> = yaml(path)
        .into_iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(docs.len(), 1, "deploy/{path}: one {kind}");
    docs.remove(0)
}

/// Every `TOKEN_SERVICE_*` / `PELIQAN_*` name in `text`.
fn setting_names(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    for prefix in PREFIXES {
        for (at, _) in text.match_indices(prefix) {
            let boundary = at == 0 || {
                let c = bytes[at - 1];
                !(c.is_ascii_alphanumeric() || c == b'_')
            };
            if !boundary {
                continue;
            }
            let end = text[at..]
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .map_or(text.len(), |n| at + n);
            let name = text[at..end].trim_end_matches('_');
            // A bare prefix (`PELIQAN_*` in prose) names no setting.
            if name.len() >= prefix.len() {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// A mapping's keys, as strings.
fn keys(v: &Value) -> Vec<String> {
    v.as_mapping()
        .map(|m| m.keys().map(str_of).collect())
        .unwrap_or_default()
}

fn is_route(path: &str) -> bool {
    ENDPOINTS.iter().any(|e| e.path == path)
}

#[test]
fn deploy_every_file_parses_and_names_only_real_settings() {
    let files = files();
    assert!(files.len() >= 8, "deploy/ has its files: {files:?}");
    let mut unknown = Vec::new();
    for (path, text) in &files {
        if is_yaml(path) {
            assert!(!documents(path, text).is_empty(), "deploy/{path} is empty");
        }
        for name in setting_names(text) {
            if !settings::is_key(&name) {
                unknown.push(format!("deploy/{path}: {name}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "names that are not settings of the service (settings::KEYS):\n{}",
        unknown.join("\n")
    );
}

#[test]
fn deploy_compose_runs_three_replicas_behind_a_balancer_with_redis_and_the_emulator() {
    let compose = yaml("compose.yaml").remove(0);
    let services = &compose["services"];
    let names = keys(services);
    for name in ["token-service", "lb", "redis", "emulator"] {
        assert!(
            names.contains(&name.to_owned()),
            "service {name}: {names:?}"
        );
    }
    let ts = &services["token-service"];
    assert_eq!(ts["deploy"]["replicas"].as_u64(), Some(3));
    let check: Vec<String> = ts["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert!(
        check.iter().any(|a| a.ends_with("/readyz")),
        "readiness healthcheck: {check:?}"
    );
    assert!(is_route("/readyz") && is_route("/healthz"));

    // Built from this repository's Dockerfile, both images.
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("cargo build --release"));
    assert!(dockerfile.contains("-p peliqan-token-service"));
    for service in ["token-service", "emulator"] {
        let build = &services[service]["build"];
        assert_eq!(build["dockerfile"].as_str(), Some("deploy/Dockerfile"));
        let context = deploy_dir().join(build["context"].as_str().unwrap());
        assert!(context.join("Cargo.toml").exists(), "context is the repo");
        let target = build["target"].as_str().unwrap();
        assert!(
            dockerfile.contains(&format!(" AS {target}\n")),
            "Dockerfile stage {target}"
        );
    }

    // The emulator's flags are documented ones.
    let emulator_readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../peliqan-emulator/README.md"),
    )
    .unwrap();
    for arg in services["emulator"]["command"].as_sequence().unwrap() {
        let arg = str_of(arg);
        if arg.starts_with("--") {
            assert!(
                emulator_readme.contains(&format!("| `{arg}")),
                "emulator flag {arg} is not in its README"
            );
        }
    }

    // The load balancer's config is here and passes real routes only.
    let lb_mounts: Vec<String> = services["lb"]["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert!(lb_mounts.iter().any(|m| m.starts_with("./nginx.conf:")));
    let nginx = std::fs::read_to_string(deploy_dir().join("nginx.conf")).unwrap();
    let location = nginx
        .lines()
        .find_map(|l| l.trim().strip_prefix("location ~ ^/("))
        .expect("nginx.conf passes a list of routes");
    let list = &location[..location.find(")$").unwrap()];
    for route in list.split('|') {
        assert!(is_route(&format!("/{route}")), "nginx passes /{route}");
    }
    assert!(!list.contains("metrics"), "/metrics stays internal");

    for file in ["compose.yaml", "compose.peliqan.yaml"] {
        check_compose_secrets(file);
    }
}

/// In a Compose file: every `*_FILE` setting under `/run/secrets/NAME` is a
/// secret the service mounts and the file declares, every secret file and
/// env file has a committed `.example`, and environment keys are settings.
fn check_compose_secrets(file: &str) {
    let compose = yaml(file).remove(0);
    let declared = keys(&compose["secrets"]);
    for (name, secret) in compose["secrets"].as_mapping().unwrap() {
        let path = secret["file"].as_str().unwrap();
        let example = deploy_dir().join(format!("{path}.example"));
        assert!(
            example.exists(),
            "{file}: secret {name:?} has {path}.example"
        );
    }
    let ts = &compose["services"]["token-service"];
    let mounted: Vec<String> = ts["secrets"]
        .as_sequence()
        .map(|s| s.iter().map(str_of).collect())
        .unwrap_or_default();
    for (key, value) in ts["environment"].as_mapping().unwrap() {
        let (key, value) = (str_of(key), str_of(value));
        assert!(settings::is_key(&key), "{file}: {key}");
        if let Some(secret) = value.strip_prefix("/run/secrets/") {
            assert!(key.ends_with("_FILE"), "{file}: {key}");
            assert!(
                mounted.contains(&secret.to_owned()),
                "{file}: {key} reads secret {secret}, which token-service does not mount"
            );
            let both = keys(&yaml("compose.yaml").remove(0)["secrets"]);
            assert!(
                declared.contains(&secret.to_owned()) || both.contains(&secret.to_owned()),
                "{file}: secret {secret} is not declared"
            );
        }
    }
    for env_file in ts["env_file"].as_sequence().into_iter().flatten() {
        let path = env_file["path"].as_str().unwrap();
        let example = deploy_dir().join(format!("{path}.example"));
        assert!(example.exists(), "{file}: env file {path} has an example");
    }
}

#[test]
fn deploy_kubernetes_manifests_fit_together() {
    let dir = "kubernetes";
    let kustomization = yaml(&format!("{dir}/kustomization.yaml")).remove(0);
    let resources: Vec<String> = kustomization["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    for resource in &resources {
        assert!(deploy_dir().join(dir).join(resource).exists(), "{resource}");
    }
    assert!(
        !resources.iter().any(|r| r.contains("example")),
        "the example Secret is never applied"
    );
    // Every manifest is a Kubernetes object.
    for (path, text) in files() {
        if path.starts_with(dir) && is_yaml(&path) && !path.ends_with("kustomization.yaml") {
            for doc in documents(&path, &text) {
                for field in ["apiVersion", "kind"] {
                    assert!(doc[field].as_str().is_some(), "{path}: {field}");
                }
                assert!(doc["metadata"]["name"].as_str().is_some(), "{path}: name");
            }
        }
    }

    let deployment = manifest(&format!("{dir}/deployment.yaml"), "Deployment");
    let spec = &deployment["spec"];
    let replicas = spec["replicas"].as_u64().unwrap();
    assert_eq!(replicas, 3);
    let labels = &spec["template"]["metadata"]["labels"];
    assert_eq!(spec["selector"]["matchLabels"], *labels);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let containers = pod["containers"].as_sequence().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    for kind in ["requests", "limits"] {
        for what in ["cpu", "memory"] {
            assert!(!c["resources"][kind][what].is_null(), "{kind}.{what}");
        }
    }
    let ports: Vec<String> = c["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| str_of(&p["name"]))
        .collect();
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert!(is_route(path));
        assert!(ports.contains(&str_of(&get["port"])), "{probe} port");
    }

    // Settings: from the ConfigMap (all real keys) and the Secret's files.
    let configmap = manifest(&format!("{dir}/configmap.yaml"), "ConfigMap");
    for key in keys(&configmap["data"]) {
        assert!(settings::is_key(&key), "ConfigMap key {key}");
    }
    let from = &c["envFrom"][0]["configMapRef"]["name"];
    assert_eq!(from, &configmap["metadata"]["name"]);
    let secret = manifest(&format!("{dir}/secret.example.yaml"), "Secret");
    let secret_keys = keys(&secret["stringData"]);
    for value in secret["stringData"].as_mapping().unwrap().values() {
        assert!(
            str_of(value).contains('<'),
            "secret.example.yaml holds placeholders only"
        );
    }
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| !v["secret"].is_null())
        .expect("a Secret volume");
    assert_eq!(volume["secret"]["secretName"], secret["metadata"]["name"]);
    let mount = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("the Secret is mounted");
    let mount_path = format!("{}/", mount["mountPath"].as_str().unwrap());
    let env = c["env"].as_sequence().unwrap();
    for var in env {
        let name = str_of(&var["name"]);
        assert!(settings::is_key(&name), "env {name}");
        assert!(
            var["value"].as_str().is_some(),
            "{name}: no literal secrets"
        );
        if let Some(file) = var["value"].as_str().unwrap().strip_prefix(&mount_path) {
            assert!(name.ends_with("_FILE"), "{name}");
            assert!(
                secret_keys.contains(&file.to_owned()),
                "{name} reads {file}, not a key of the Secret"
            );
        }
    }

    let service = manifest(&format!("{dir}/service.yaml"), "Service");
    assert_eq!(service["spec"]["selector"], *labels);
    for port in service["spec"]["ports"].as_sequence().unwrap() {
        assert!(ports.contains(&str_of(&port["targetPort"])), "Service port");
    }
    let pdb = manifest(
        &format!("{dir}/poddisruptionbudget.yaml"),
        "PodDisruptionBudget",
    );
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], *labels);
    let min = pdb["spec"]["minAvailable"].as_u64().unwrap();
    assert!(min >= 1 && min < replicas, "a drain can proceed: {min}");
}

#[test]
fn deploy_setting_names_are_found_wherever_they_are_written() {
    let names = setting_names(
        "X_TOKEN_SERVICE_NO TOKEN_SERVICE_LISTEN=1 ${PELIQAN_API_URL:-x} \"PELIQAN_\"",
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names, ["PELIQAN_API_URL", "TOKEN_SERVICE_LISTEN"]);
}
