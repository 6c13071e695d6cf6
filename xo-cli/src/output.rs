//! Rendering an answer: `-o table|json|ndjson|markdown`.
//!
//! Every format renders the same JSON the SDK decoded, locally, so that all
//! operations (not only the collections XO can render as Markdown) get all
//! four formats.

use serde_json::Value;

/// Longest table cell; longer values (nested objects) are cut with `…`.
const CELL_MAX: usize = 60;

/// `value` in `format` (one of [`crate::args::FORMATS`]), ending with a
/// newline unless empty. `columns` orders the columns of a table (the
/// `--fields` asked for); other keys follow in the order they come.
pub fn render(value: &Value, format: &str, columns: &[String]) -> String {
    match format {
        "json" => format!(
            "{}\n",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        "ndjson" => match value {
            Value::Array(items) => items.iter().map(|v| format!("{v}\n")).collect(),
            v => format!("{v}\n"),
        },
        "markdown" => grid(value, columns)
            .map(|g| markdown(&g))
            .unwrap_or_else(|| scalar_lines(value)),
        _ => grid(value, columns)
            .map(|g| table(&g))
            .unwrap_or_else(|| scalar_lines(value)),
    }
}

/// A result that is only an id (`{"id": …}`: created objects, most task
/// results) is the bare id in a table, so that `ID=$(xo …)` works;
/// anything else is [`render`]ed.
pub fn render_result(value: &Value, format: &str) -> String {
    let only_id = value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str);
    match (only_id, format) {
        (Some(id), "table" | "markdown") => format!("{id}\n"),
        _ => render(value, format, &[]),
    }
}

/// A header row and cells, for arrays of objects and single objects.
struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn grid(value: &Value, columns: &[String]) -> Option<Grid> {
    match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut header: Vec<String> = columns.iter().filter(|c| *c != "*").cloned().collect();
            // XO adds `href` to every listed object: noise in a table,
            // unless asked for.
            let skip_href = !header.iter().any(|c| c == "href");
            for item in items {
                for key in item.as_object().into_iter().flat_map(|o| o.keys()) {
                    let hidden = skip_href && key == "href";
                    if !hidden && !header.contains(key) {
                        header.push(key.clone());
                    }
                }
            }
            let rows = items
                .iter()
                .map(|item| header.iter().map(|h| cell(item.get(h))).collect())
                .collect();
            Some(Grid { header, rows })
        }
        Value::Object(map) => Some(Grid {
            header: vec!["field".to_owned(), "value".to_owned()],
            rows: map
                .iter()
                .map(|(k, v)| vec![k.clone(), cell(Some(v))])
                .collect(),
        }),
        _ => None,
    }
}

fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    // One line per row, whatever the value holds.
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() > CELL_MAX {
        let cut: String = text.chars().take(CELL_MAX - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn table(g: &Grid) -> String {
    let widths: Vec<usize> = (0..g.header.len())
        .map(|i| {
            g.rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([g.header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        format!("{}\n", s.trim_end())
    };
    let header: Vec<String> = g.header.iter().map(|h| h.to_uppercase()).collect();
    let mut out = line(&header);
    for row in &g.rows {
        out.push_str(&line(row));
    }
    out
}

fn markdown(g: &Grid) -> String {
    let esc = |s: &String| s.replace('|', "\\|");
    let row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells.iter().map(esc).collect::<Vec<_>>().join(" | ")
        )
    };
    let mut out = row(&g.header);
    out.push_str(&format!("|{}\n", " --- |".repeat(g.header.len())));
    for r in &g.rows {
        out.push_str(&row(r));
    }
    out
}

/// Scalars and arrays of scalars: one value per line (strings bare).
fn scalar_lines(value: &Value) -> String {
    let one = |v: &Value| match v {
        Value::String(s) => format!("{s}\n"),
        Value::Null => String::new(),
        v => format!("{v}\n"),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        v => one(v),
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use serde_json::json;

    #[test]
    fn formats_of_a_list() {
        let v = json!([{"id": "a", "name_label": "x|y"}, {"id": "b", "power_state": "Running"}]);
        let cols = vec!["name_label".to_owned(), "id".to_owned()];
        assert_eq!(
            render(&v, "table", &cols),
            "NAME_LABEL  ID  POWER_STATE\nx|y         a\n            b   Running\n"
        );
        assert!(
            render(&v, "markdown", &cols)
                .starts_with("| name_label | id | power_state |\n| --- | --- | --- |\n| x\\|y |")
        );
        assert_eq!(render(&v, "ndjson", &cols).lines().count(), 2);
        assert_eq!(render(&json!(["a", "b"]), "table", &[]), "a\nb\n");
    }
}
