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
    /// What a failed task carries in `result` when XO reports more there
    /// than the answer's body (`None`: derived by [`XoError::task_result`]).
    pub task: Option<Box<Value>>,
}

/// Marker text of the 404 answered for a route the simulator does not know.
pub const NO_SUCH_ROUTE: &str = "no such route";

impl XoError {
    /// Any status with a plain message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        XoError {
            status,
            body: json!({ "error": message.into() }),
            task: None,
        }
    }

    /// Any status with a message and `data`.
    pub fn with_data(status: StatusCode, message: impl Into<String>, data: Value) -> Self {
        XoError {
            status,
            body: json!({ "error": message.into(), "data": data }),
            task: None,
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

    /// 404 for an unknown route (answered over HTTP as Express does:
    /// `text/html`, `Cannot <METHOD> <path>`; see [`express_404`]).
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::with_data(
            StatusCode::NOT_FOUND,
            NO_SUCH_ROUTE,
            json!({ "method": method, "path": path }),
        )
    }

    /// 422 with a field-error object as `error` (and XO's empty `data`).
    pub fn invalid_fields(fields: serde_json::Map<String, Value>) -> Self {
        XoError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "error": Value::Object(fields), "data": {} }),
            task: None,
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

    /// 403 not enough permissions (admin only).
    pub fn forbidden() -> Self {
        Self::with_data(
            StatusCode::FORBIDDEN,
            "not enough permissions",
            json!({ "object": {} }),
        )
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

    /// 409 object already exists, as XO says it: `data` names the
    /// existing object's type and, when XO gives it, its id.
    pub fn already_exists(what: &str, id: Option<&str>) -> Self {
        let mut data = json!({ "objectType": what });
        if let Some(id) = id {
            data["objectId"] = json!(id);
        }
        Self::with_data(StatusCode::CONFLICT, format!("{what} already exists"), data)
    }

    /// 403 for an operation XO refuses whatever the privileges:
    /// `forbidden operation: <operation>` with the reason in `data`.
    pub fn forbidden_operation(operation: &str, reason: &str) -> Self {
        Self::with_data(
            StatusCode::FORBIDDEN,
            format!("forbidden operation: {operation}"),
            json!({ "operation": operation, "reason": reason }),
        )
    }

    /// XO's numeric error code (`code` of a failed task's result) for the
    /// errors whose code xo-server was seen to use: no such object (1),
    /// invalid credentials (3), incorrect state (25).
    pub fn xo_code(&self) -> Option<u64> {
        let m = self.message();
        if self.status == StatusCode::NOT_FOUND && m.starts_with("no such ") {
            Some(1)
        } else if m == "invalid credentials" {
            Some(3)
        } else if m == "incorrect state" {
            Some(25)
        } else {
            None
        }
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
            task: None,
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
        let xapi =
            self.status == StatusCode::INTERNAL_SERVER_ERROR && self.body.get("info").is_some();
        let code = self.xo_code();
        let name = if xapi {
            "XapiError"
        } else if code.is_some() {
            "XoError"
        } else {
            "Error"
        };
        let mut r = json!({
            "message": self.message(),
            "name": name,
            "stack": format!("{name}: {}\n    at xo-sim", self.message()),
        });
        if let Some(c) = code {
            r["code"] = json!(c);
        }
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

/// Express's answer to a route it does not know (`Cannot GET /x`).
pub fn express_404(method: &str, path: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
    );
    let mut res = (StatusCode::NOT_FOUND, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

impl IntoResponse for XoError {
    fn into_response(self) -> Response {
        // Unknown routes never reach XO's REST API: Express answers them.
        if self.status == StatusCode::NOT_FOUND && self.body["error"] == NO_SUCH_ROUTE {
            return express_404(
                self.body["data"]["method"].as_str().unwrap_or("GET"),
                self.body["data"]["path"].as_str().unwrap_or("/"),
            );
        }
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
