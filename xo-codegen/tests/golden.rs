//! Golden tests of the generated code: `tests/fixtures/golden/small.dadl`
//! generates (`Target::Standalone`) exactly `small.rs.expected`, and the
//! XO file with its overlays generates exactly `tests/output/xen-orchestra.rs`.
//!
//! After an intended change to the emitter, accept the new output with
//! `UPDATE_GOLDEN=1 cargo test -p xo-codegen --test golden` and review the
//! change to the expected files in the commit.

use std::path::{Path, PathBuf};

use xo_codegen::{Input, Target};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/golden")
        .join(name)
}

#[test]
fn small_dadl_generates_the_expected_code() {
    let input = Input::new(fixture("small.dadl"));
    let actual = xo_codegen::generate(&input, Target::Standalone).expect("small.dadl generates");
    let again = xo_codegen::generate(&input, Target::Standalone).expect("small.dadl generates");
    assert!(actual == again, "the generator is not deterministic");
    check_golden(&fixture("small.rs.expected"), &actual);
}

/// The whole XO client, as `build.rs` generates it into xo-sdk, committed
/// as `tests/output/xen-orchestra.rs`: a change to the generator or to an
/// overlay shows in review as a diff of the code users get.
#[test]
fn xo_client_matches_the_committed_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let input = Input::new(root.join("dadl/xen-orchestra.dadl"))
        .with_overlay(root.join("dadl/xen-orchestra.errata.yaml"))
        .with_overlay(root.join("dadl/xen-orchestra.sdk.yaml"));
    let actual = xo_codegen::generate(&input, Target::InCrate).expect("the XO file generates");
    check_golden(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/output/xen-orchestra.rs"),
        &actual,
    );
}

/// Compare with the expected file, or write it under `UPDATE_GOLDEN=1`.
fn check_golden(expected_path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(expected_path.parent().expect("a file in a directory"))
            .expect("create the output directory");
        std::fs::write(expected_path, actual).expect("write the expected file");
        eprintln!("updated {}", expected_path.display());
        return;
    }
    let expected = std::fs::read_to_string(expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDEN=1",
            expected_path.display()
        )
    });
    if expected != actual {
        panic!(
            "generated code differs from {} (- expected, + generated):\n{}\n\
             If the change is intended: UPDATE_GOLDEN=1 cargo test -p xo-codegen --test golden",
            expected_path.display(),
            bounded_diff(&expected, actual)
        );
    }
}

/// A unified diff of the region between the common first and last lines
/// (the LCS below is quadratic: a region too long for it is shown as its
/// first lines on each side).
fn bounded_diff(a: &str, b: &str) -> String {
    let al: Vec<&str> = a.lines().collect();
    let bl: Vec<&str> = b.lines().collect();
    let prefix = al.iter().zip(&bl).take_while(|(x, y)| x == y).count();
    let suffix = al[prefix..]
        .iter()
        .rev()
        .zip(bl[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let a_mid = &al[prefix..al.len() - suffix];
    let b_mid = &bl[prefix..bl.len() - suffix];
    if a_mid.len() + b_mid.len() > 6000 {
        let head = |lines: &[&str], sign: char| {
            lines
                .iter()
                .take(100)
                .map(|l| format!("{sign}{l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        return format!(
            "@@ first difference at line {} ({} and {} lines differ; first 100 of each)\n{}\n{}",
            prefix + 1,
            a_mid.len(),
            b_mid.len(),
            head(a_mid, '-'),
            head(b_mid, '+')
        );
    }
    let from = prefix.saturating_sub(3);
    let a_end = (al.len() - suffix + 3).min(al.len());
    let b_end = (bl.len() - suffix + 3).min(bl.len());
    format!(
        "(from line {})\n{}",
        from + 1,
        unified_diff(&al[from..a_end].join("\n"), &bl[from..b_end].join("\n"), 3)
    )
}

/// One line of an edit script: kept, removed from `a`, or added from `b`,
/// with the 0-based positions in `a` and `b` before the line.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Keep,
    Remove,
    Add,
}

/// A unified diff of two texts by lines, with `context` lines around each
/// change (longest common subsequence; the inputs are a few thousand lines).
fn unified_diff(a: &str, b: &str, context: usize) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    // Common prefix and suffix are kept as is; the LCS table covers the middle.
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    // lcs[i][j]: LCS length of ma[i..] and mb[j..].
    let mut lcs = vec![vec![0u32; mb.len() + 1]; ma.len() + 1];
    for i in (0..ma.len()).rev() {
        for j in (0..mb.len()).rev() {
            lcs[i][j] = if ma[i] == mb[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The edit script: (op, line, position in a, position in b).
    let mut ops: Vec<(Op, &str, usize, usize)> = Vec::new();
    for (k, line) in a[..prefix].iter().enumerate() {
        ops.push((Op::Keep, line, k, k));
    }
    let (mut i, mut j) = (0, 0);
    while i < ma.len() || j < mb.len() {
        let (pa, pb) = (prefix + i, prefix + j);
        if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
            ops.push((Op::Keep, ma[i], pa, pb));
            i += 1;
            j += 1;
        } else if j < mb.len() && (i == ma.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push((Op::Add, mb[j], pa, pb));
            j += 1;
        } else {
            ops.push((Op::Remove, ma[i], pa, pb));
            i += 1;
        }
    }
    for k in 0..suffix {
        let (pa, pb) = (a.len() - suffix + k, b.len() - suffix + k);
        ops.push((Op::Keep, a[pa], pa, pb));
    }

    // Hunks: runs of changes less than 2 * context lines apart, plus context.
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != Op::Keep).collect();
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &k in &changes {
        let start = k.saturating_sub(context);
        let end = (k + context + 1).min(ops.len());
        match hunks.last_mut() {
            Some((_, e)) if start <= *e => *e = end,
            _ => hunks.push((start, end)),
        }
    }
    let mut out = String::new();
    for (start, end) in hunks {
        let slice = &ops[start..end];
        let count_a = slice.iter().filter(|o| o.0 != Op::Add).count();
        let count_b = slice.iter().filter(|o| o.0 != Op::Remove).count();
        out.push_str(&format!(
            "@@ -{},{count_a} +{},{count_b} @@\n",
            slice[0].2 + 1,
            slice[0].3 + 1
        ));
        for (op, line, _, _) in slice {
            let sign = match op {
                Op::Keep => ' ',
                Op::Remove => '-',
                Op::Add => '+',
            };
            out.push(sign);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn diff_shows_changes_with_context() {
    let a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    let b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
    assert_eq!(
        unified_diff(a, b, 1),
        "@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n@@ -9,1 +9,2 @@\n 9\n+10\n"
    );
    assert_eq!(unified_diff(a, a, 3), "");
}
