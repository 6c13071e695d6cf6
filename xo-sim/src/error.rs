//! XO's error shape: `{"error": <string | field errors>, "data"?: any, "info"?: string}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answered the way XO answers it.
#[derive(Debug, Clone)]
pub struct XoError {
    /// HTTP status.
    pub status: StatusCode,
    /// The whole JSON body.
    pub body: Value,
}

/// Marker text of the 404 answered for a route the simulator does not know.
pub const NO_SUCH_ROUTE: &str = "no such route";

impl XoError {
    /// Any status with a plain message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        XoError {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    /// Any status with a message and `data`.
    pub fn with_data(status: StatusCode, message: impl Into<String>, data: Value) -> Self {
        XoError {
            status,
            body: json!({ "error": message.into(), "data": data }),
        }
    }

    /// 404 for an unknown object: `no such VM <id>`.
    pub fn no_such(noun: &str, id: &str) -> Self {
        Self::with_data(
            StatusCode::NOT_FOUND,
            format!("no such {noun} {id}"),
            json!({ "id": id, "type": noun }),
        )
    }

    /// 404 for an unknown route.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::with_data(
            StatusCode::NOT_FOUND,
            NO_SUCH_ROUTE,
            json!({ "method": method, "path": path }),
        )
    }

    /// 422 with a field-error object as `error`.
    pub fn invalid_fields(fields: serde_json::Map<String, Value>) -> Self {
        XoError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "error": Value::Object(fields) }),
        }
    }

    /// 422 for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>, value: Value) -> Self {
        let mut m = serde_json::Map::new();
        m.insert(
            field.to_string(),
            json!({ "message": message.into(), "value": value }),
        );
        Self::invalid_fields(m)
    }

    /// 422 with a plain message (invalid parameters detected by XO itself).
    pub fn invalid_parameters(message: impl Into<String>, data: Value) -> Self {
        Self::with_data(StatusCode::UNPROCESSABLE_ENTITY, message, data)
    }

    /// 400 with a plain message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 invalid credentials.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid credentials")
    }

    /// 403 not enough permissions.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "not enough permissions")
    }

    /// 403 with the missing ACL privileges.
    pub fn missing_privileges(privileges: Value) -> Self {
        Self::with_data(
            StatusCode::FORBIDDEN,
            "not enough privileges",
            json!({ "missingPrivileges": privileges }),
        )
    }

    /// 409 incorrect state.
    pub fn incorrect_state(object: &str, property: &str, actual: Value, expected: Value) -> Self {
        Self::with_data(
            StatusCode::CONFLICT,
            "incorrect state",
            json!({ "object": object, "property": property, "actual": actual, "expected": expected }),
        )
    }

    /// 409 object already exists.
    pub fn already_exists(what: &str, id: &str) -> Self {
        Self::with_data(
            StatusCode::CONFLICT,
            format!("{what} already exists"),
            json!({ "id": id, "type": what }),
        )
    }

    /// 500 shaped like a XAPI error relayed by XO.
    pub fn xapi(code: &str, params: Vec<Value>) -> Self {
        let rendered: Vec<String> = params
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        XoError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: json!({
                "error": format!("{code}({})", rendered.join(", ")),
                "data": { "code": code, "params": params },
                "info": "This is a XenServer/XCP-ng error, not an XO error",
            }),
        }
    }

    /// 500 with a plain message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The `error` member rendered as a string.
    pub fn message(&self) -> String {
        match &self.body["error"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// The value a failed task carries in `result`.
    pub fn task_result(&self) -> Value {
        let mut r = json!({
            "message": self.message(),
            "name": if self.status == StatusCode::INTERNAL_SERVER_ERROR && self.body.get("info").is_some() { "XapiError" } else { "Error" },
            "stack": format!("Error: {}\n    at xo-sim", self.message()),
        });
        if let Some(data) = self.body.get("data") {
            if let Some(code) = data.get("code") {
                r["code"] = code.clone();
            }
            if let Some(params) = data.get("params") {
                r["params"] = params.clone();
            }
            r["data"] = data.clone();
        }
        r
    }
}

impl std::fmt::Display for XoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message())
    }
}

impl std::error::Error for XoError {}

impl IntoResponse for XoError {
    fn into_response(self) -> Response {
        let mut res = (self.status, json_body(&self.body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"xo\""),
            );
        }
        res
    }
}

/// Serializes a JSON value (infallible for `Value`).
pub fn json_body(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

/// Result alias of the simulator's handlers.
pub type XoResult<T> = Result<T, XoError>;
