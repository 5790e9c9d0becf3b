//! The JSON Schema of report.json (`docs/report-schema.json`, draft 2020-12) and a small
//! validator for the keywords it uses (type, const, enum, required, properties, items,
//! minItems/maxItems, minimum/maximum, minLength, oneOf). Python's `jsonschema` is the
//! peer check in the tests.

use serde_json::Value;

/// The schema text, as shipped in `docs/`.
pub const SCHEMA_JSON: &str = include_str!("../../../docs/report-schema.json");

/// The parsed schema (`Value::Null` if the bundled file were not JSON, which a test forbids).
pub fn schema() -> Value {
    serde_json::from_str(SCHEMA_JSON).unwrap_or(Value::Null)
}

/// Check `v` against `schema`; every violation as `path: reason`. Empty = valid.
pub fn validate(schema: &Value, v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    check(schema, v, "$", &mut errs);
    errs
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn check(s: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let Some(s) = s.as_object() else { return };
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).any(|t| type_ok(t, v)),
            _ => true,
        };
        if !ok {
            errs.push(format!("{path}: expected type {t}, found {v}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errs.push(format!("{path}: expected {c}, found {v}"));
        }
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        if !e.contains(v) {
            errs.push(format!("{path}: {v} is not one of {}", Value::Array(e.clone())));
        }
    }
    if let Some(Value::Array(alts)) = s.get("oneOf") {
        let n = alts.iter().filter(|a| validate(a, v).is_empty()).count();
        if n != 1 {
            let detail: Vec<String> = alts.iter().flat_map(|a| validate(a, v)).take(3).collect();
            errs.push(format!(
                "{path}: matches {n} of oneOf (need 1): {}",
                detail.join("; ")
            ));
        }
    }
    if let Some(x) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if x < min {
                errs.push(format!("{path}: {x} < minimum {min}"));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if x > max {
                errs.push(format!("{path}: {x} > maximum {max}"));
            }
        }
    }
    if let (Some(t), Some(n)) = (v.as_str(), s.get("minLength").and_then(Value::as_u64)) {
        if (t.chars().count() as u64) < n {
            errs.push(format!("{path}: shorter than {n}"));
        }
    }
    if let Some(o) = v.as_object() {
        if let Some(Value::Array(req)) = s.get("required") {
            for k in req.iter().filter_map(Value::as_str) {
                if !o.contains_key(k) {
                    errs.push(format!("{path}: missing required `{k}`"));
                }
            }
        }
        if let Some(Value::Object(props)) = s.get("properties") {
            for (k, ps) in props {
                if let Some(x) = o.get(k) {
                    check(ps, x, &format!("{path}.{k}"), errs);
                }
            }
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < n {
                errs.push(format!("{path}: {} items < minItems {n}", a.len()));
            }
        }
        if let Some(n) = s.get("maxItems").and_then(Value::as_u64) {
            if (a.len() as u64) > n {
                errs.push(format!("{path}: {} items > maxItems {n}", a.len()));
            }
        }
        if let Some(items) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(items, x, &format!("{path}[{i}]"), errs);
            }
        }
    }
}
