//! The OpenAPI 3 document of the HTTP API, built from the code it describes: the view
//! schemas come from the views' column lists (`admin::views::columns`), the paths from
//! `View::ALL` and the action routes. (utoipa would derive the same from annotations,
//! at the price of a proc-macro dependency tree; a test checks the document against
//! the router's route list and resolves every reference.)

use serde_json::{json, Map, Value};

use crate::admin::command::View;
use crate::admin::table::ColumnType;
use crate::admin::views::columns;

fn schema_name(view: View) -> String {
    let mut name = String::new();
    for part in view.api_name().split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.extend(chars);
        }
    }
    format!("{name}Row")
}

fn row_schema(view: View) -> Value {
    let mut properties = Map::new();
    for (name, ty) in columns(view) {
        let t = match ty {
            ColumnType::Int => json!({"type": "integer", "format": "int64", "nullable": true}),
            ColumnType::Float => json!({"type": "number", "format": "double", "nullable": true}),
            ColumnType::Text => json!({"type": "string", "nullable": true}),
        };
        properties.insert((*name).to_string(), t);
    }
    let required: Vec<&str> = columns(view).iter().map(|(n, _)| *n).collect();
    json!({"type": "object", "properties": properties, "required": required})
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn action(summary: &str, ok: Value, request: Option<Value>) -> Value {
    let mut op = json!({
        "summary": summary,
        "security": [{"basic": []}],
        "responses": {
            "200": {"description": "Done", "content": {"application/json": {"schema": ok}}},
            "401": error_response("Missing or wrong credentials"),
            "403": error_response("The account lacks the admin privilege, or the address is not allowed"),
        }
    });
    if let Some(schema) = request {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema}}
        });
    }
    op
}

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    paths.insert(
        "/health".into(),
        json!({"get": {
            "summary": "Liveness and readiness: 503 while OFFLINE",
            "responses": {
                "200": {"description": "Serving", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                "503": {"description": "OFFLINE: new client connections are refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
            }
        }}),
    );
    paths.insert(
        "/metrics".into(),
        json!({"get": {
            "summary": "Prometheus metrics (text exposition format 0.0.4)",
            "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
        }}),
    );
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({"get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
        }}),
    );
    let mut schemas = Map::new();
    let mut view_names = Vec::new();
    for (view, names, what) in View::ALL {
        let schema = schema_name(view);
        schemas.insert(schema.clone(), row_schema(view));
        view_names.push(view.api_name());
        paths.insert(
            format!("/api/v1/{}", view.api_name()),
            json!({"get": {
                "summary": format!("{what} (SHOW @@{} on the admin port)", names[0]),
                "security": [{"basic": []}],
                "responses": {
                    "200": {"description": "One object per row", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": format!("#/components/schemas/{schema}")}}}}},
                    "401": error_response("Missing or wrong credentials"),
                    "403": error_response("The account lacks the admin privilege, or the address is not allowed"),
                }
            }}),
        );
    }
    let state = json!({"type": "object", "properties": {"state": {"type": "string", "enum": ["online", "offline"]}, "changed": {"type": "boolean"}}, "required": ["state", "changed"]});
    paths.insert(
        "/api/v1/offline".into(),
        json!({"post": action("Refuse new client connections (open sessions carry on)", state.clone(), None)}),
    );
    paths.insert(
        "/api/v1/online".into(),
        json!({"post": action("Accept client connections again", state, None)}),
    );
    let mut reload = action(
        "Re-read the configuration file; apply what can change online",
        json!({"type": "object", "properties": {"changes": {"type": "array", "items": {"$ref": "#/components/schemas/ReloadChange"}}}, "required": ["changes"]}),
        None,
    );
    reload["responses"]["422"] =
        error_response("The file cannot be read or is invalid; nothing was applied");
    paths.insert("/api/v1/reload".into(), json!({"post": reload}));
    let mut kill = action(
        "Close client sessions (their transactions roll back)",
        json!({"type": "object", "properties": {"killed": {"type": "integer"}}, "required": ["killed"]}),
        Some(json!({"$ref": "#/components/schemas/KillRequest"})),
    );
    kill["responses"]["400"] = error_response("The body is not {\"ids\": [...]}");
    kill["responses"]["404"] = error_response("An id names no live session; nothing was killed");
    paths.insert("/api/v1/kill".into(), json!({"post": kill}));
    let mut switch = action(
        "Make a replica the data node's primary (SWITCH @@DATASOURCE: planned switchover)",
        json!({"type": "object", "properties": {"dnid": {"type": "integer"}, "primary": {"type": "string"}}, "required": ["dnid", "primary"]}),
        Some(json!({"$ref": "#/components/schemas/SwitchRequest"})),
    );
    switch["responses"]["400"] =
        error_response("The body is not {\"dnid\": n, \"target\": \"host:port\"}");
    switch["responses"]["409"] = error_response("Refused (unknown data node, no replica, not a replica...) or abandoned; the primary did not change");
    paths.insert("/api/v1/switch".into(), json!({"post": switch}));
    paths.insert(
        "/api/v1/reset_digests".into(),
        json!({"post": action("Forget the statement statistics", json!({"type": "object", "properties": {"reset": {"type": "boolean"}}}), None)}),
    );
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "integer", "description": "MySQL error code"},
            "message": {"type": "string"}
        }, "required": ["code", "message"]}}, "required": ["error"]}),
    );
    schemas.insert(
        "Health".into(),
        json!({"type": "object", "properties": {"status": {"type": "string", "enum": ["online", "offline"]}, "reason": {"type": "string"}}, "required": ["status"]}),
    );
    schemas.insert(
        "SwitchRequest".into(),
        json!({"type": "object", "properties": {
            "dnid": {"type": "integer", "description": "The data node"},
            "target": {"type": "string", "description": "host:port of the replica to promote; absent: the one that applied the most"}
        }, "required": ["dnid"]}),
    );
    schemas.insert(
        "KillRequest".into(),
        json!({"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}}, "required": ["ids"]}),
    );
    schemas.insert(
        "ReloadChange".into(),
        json!({"type": "object", "properties": {
            "setting": {"type": "string"},
            "status": {"type": "string", "enum": ["applied", "restart required", "unchanged"]},
            "detail": {"type": "string"}
        }, "required": ["setting", "status", "detail"]}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Strata compute node management API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The admin port's views and actions over HTTP. Views and actions take HTTP basic authentication with an account that has the SUPER privilege."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `v`.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        if let Some(s) = x.as_str() {
                            out.push(s.to_string());
                        }
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_route_is_documented_with_responses() {
        let doc = document();
        for (method, path) in crate::http::ROUTES {
            if *path == "/api/v1/{view}" {
                for (view, _, _) in View::ALL {
                    let p = format!("/api/v1/{}", view.api_name());
                    assert!(
                        doc["paths"][&p][method]["responses"]["200"].is_object(),
                        "{p}"
                    );
                }
                continue;
            }
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{path}"
            );
            assert!(op["summary"].is_string(), "{path}");
        }
    }

    #[test]
    fn the_document_is_openapi_3_and_every_reference_resolves() {
        let doc = document();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        assert!(doc["info"]["title"].is_string());
        assert!(doc["info"]["version"].is_string());
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {r}"));
            assert!(doc["components"]["schemas"][name].is_object(), "{r}");
        }
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            assert!(path.starts_with('/'));
            for (method, op) in item.as_object().into_iter().flatten() {
                assert!(["get", "post"].contains(&method.as_str()));
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    assert!(status.parse::<u16>().is_ok(), "{path} {status}");
                    assert!(response["description"].is_string(), "{path} {status}");
                }
            }
        }
    }

    #[test]
    fn view_schemas_list_the_views_columns() {
        let doc = document();
        let schema = &doc["components"]["schemas"]["DatanodesRow"];
        assert_eq!(schema["properties"]["dnid"]["type"], "integer");
        assert_eq!(schema["properties"]["statements_per_s"]["type"], "number");
        assert_eq!(schema["properties"]["status"]["type"], "string");
    }
}
