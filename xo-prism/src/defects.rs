//! Known defects of the official document: findings no faithful answer can
//! avoid, counted and listed apart.

use axum::http::Method;

use super::check::{Finding, Side};
use super::spec::pointer_token;

/// What a finding is checked against.
pub(super) struct FindingCtx<'a> {
    pub(super) method: &'a Method,
    /// The operation's path template in the document (`/vms/{id}`), when
    /// the route matches one.
    pub(super) template: Option<&'a str>,
    pub(super) query: &'a str,
    /// The answer's media type, lower case, without parameters.
    pub(super) media_type: &'a str,
    pub(super) finding: &'a Finding,
}

impl FindingCtx<'_> {
    fn query_flag(&self, name: &str) -> bool {
        form_urlencoded::parse(self.query.as_bytes())
            .any(|(k, v)| k == name && (v == "true" || v.is_empty()))
    }
}

/// A finding the official document makes unavoidable: no faithful answer
/// can satisfy it. Counted and listed apart, never dropped.
pub(super) struct Defect {
    /// Short name, printed in the report.
    pub(super) id: &'static str,
    /// What is wrong with the document.
    pub(super) what: &'static str,
    applies: fn(&FindingCtx) -> bool,
    /// JSON pointer of the faulty part of the document, for an operation.
    pub(super) pointer: fn(template: &str) -> String,
}

fn content_pointer(template: &str) -> String {
    format!(
        "#/paths/{}/get/responses/200/content",
        pointer_token(template)
    )
}

fn byte_pointer(template: &str) -> String {
    format!(
        "#/paths/{}/get/responses/200/content/application~1octet-stream/schema/format",
        pointer_token(template)
    )
}

pub(super) static DEFECTS: &[Defect] = &[
    Defect {
        id: "ndjson-answer",
        what: "the operation takes `ndjson` (boolean) but documents only an application/json \
               answer (a JSON array); XO answers application/x-ndjson, one object per line. \
               The objects themselves are checked too, as the JSON array of the lines",
        applies: |c| {
            c.media_type == "application/x-ndjson"
                && !c.query_flag("watch")
                && c.finding.side == Side::Response
        },
        pointer: content_pointer,
    },
    Defect {
        id: "watch-answer",
        what: "GET /tasks takes `watch` (boolean) but documents only a JSON array answer; XO \
               answers an endless application/x-ndjson stream of [event, task] pairs. The \
               tasks themselves are checked too, as a JSON array",
        applies: |c| {
            c.media_type == "application/x-ndjson"
                && c.query_flag("watch")
                && c.finding.side == Side::Response
        },
        pointer: content_pointer,
    },
    Defect {
        id: "markdown-answer",
        what: "the operation takes `markdown` (boolean) but documents only an application/json \
               answer; XO answers a text/markdown table (not checkable against a JSON schema)",
        applies: |c| c.media_type == "text/markdown" && c.finding.side == Side::Response,
        pointer: content_pointer,
    },
    Defect {
        id: "binary-download-as-base64",
        what: "the export's application/octet-stream answer is declared `type: string, format: \
               byte` (base64 text); XO streams the raw XVA/OVA/VHD/raw bytes (`format: binary`)",
        applies: |c| {
            *c.method == Method::GET
                && c.template.is_some_and(|t| t.ends_with("{id}.{format}"))
                && c.finding.side == Side::Response
                && c.finding.location.starts_with("response.body")
                && (c.finding.message.contains("format \"byte\"")
                    || c.finding
                        .message
                        .contains("must match pattern \"^[\\w\\d+\\/=]*$\""))
        },
        pointer: byte_pointer,
    },
    Defect {
        id: "backup-repository-error-string",
        what: "a backup repository's `error` is declared an object; XO creates every \
               repository with `error: \"\"` (a string; later an object, or no member): \
               recorded from xo-server 5.207.2 in conformance/real/corpus.jsonl",
        applies: |c| {
            c.template
                .is_some_and(|t| t.starts_with("/backup-repositories"))
                && c.finding.side == Side::Response
                && c.finding.location.ends_with(".error")
                && c.finding.message.contains("object")
        },
        pointer: content_pointer,
    },
];

pub(super) fn known_defect(c: &FindingCtx) -> Option<&'static Defect> {
    DEFECTS.iter().find(|d| (d.applies)(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(location: &str, message: &str) -> Finding {
        Finding {
            side: Side::Response,
            location: location.into(),
            severity: "Error".into(),
            message: message.into(),
        }
    }

    fn id(
        method: Method,
        template: &str,
        query: &str,
        mt: &str,
        f: &Finding,
    ) -> Option<&'static str> {
        known_defect(&FindingCtx {
            method: &method,
            template: Some(template),
            query,
            media_type: mt,
            finding: f,
        })
        .map(|d| d.id)
    }

    #[test]
    fn defects_apply_to_their_findings_only() {
        let media = finding("response", "The received media type ...");
        assert_eq!(
            id(
                Method::GET,
                "/vms",
                "ndjson=true",
                "application/x-ndjson",
                &media
            ),
            Some("ndjson-answer")
        );
        assert_eq!(
            id(
                Method::GET,
                "/tasks",
                "ndjson=true&watch=true",
                "application/x-ndjson",
                &media
            ),
            Some("watch-answer")
        );
        assert_eq!(
            id(
                Method::GET,
                "/vms",
                "markdown=true",
                "text/markdown",
                &media
            ),
            Some("markdown-answer")
        );
        assert_eq!(
            id(Method::GET, "/vms", "", "application/json", &media),
            None
        );
        let byte = finding("response.body", "Response body must match format \"byte\"");
        assert_eq!(
            id(
                Method::GET,
                "/vdis/{id}.{format}",
                "",
                "application/octet-stream",
                &byte
            ),
            Some("binary-download-as-base64")
        );
        assert_eq!(
            id(Method::GET, "/vdis/{id}", "", "application/json", &byte),
            None
        );
        let repo_error = finding("response.body.0.error", "must be object");
        assert_eq!(
            id(
                Method::GET,
                "/backup-repositories",
                "fields=*",
                "application/json",
                &repo_error
            ),
            Some("backup-repository-error-string")
        );
        assert_eq!(
            id(
                Method::GET,
                "/vms",
                "fields=*",
                "application/json",
                &repo_error
            ),
            None
        );
        let other = finding("response.body.name_label", "must be string");
        assert_eq!(
            id(
                Method::GET,
                "/vdis/{id}.{format}",
                "",
                "application/octet-stream",
                &other
            ),
            None
        );
    }

    #[test]
    fn pointers_escape_the_template() {
        assert_eq!(
            byte_pointer("/vms/{id}.{format}"),
            "#/paths/~1vms~1{id}.{format}/get/responses/200/content/application~1octet-stream/schema/format"
        );
        assert_eq!(
            content_pointer("/tasks"),
            "#/paths/~1tasks/get/responses/200/content"
        );
    }
}
