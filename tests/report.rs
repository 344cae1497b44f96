//! `emo-run report` on a real (tiny) grid: the table rows, the paired differences, the figures,
//! a skipped unfinished run, and byte-identical output when rerun.

mod common;

use std::path::Path;

use common::{bin, run, stderr, tiny_experiment};

const GRID: &str = "[sweep.grid]\n\"fusion.method\" = [\"early_fusion\", \"late_fusion\"]\n";
const EARLY: &str = "tiny--fusion.method=early_fusion";
const LATE: &str = "tiny--fusion.method=late_fusion";

/// Check a PNG through and through (signature, every chunk's CRC, the header, the pixel
/// stream's length once inflated) and give its size.
fn png_size(path: &Path) -> (u32, u32) {
    use std::io::Read as _;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    let (mut at, mut size, mut pixels, mut ended) = (8, (0, 0), Vec::new(), false);
    while at < bytes.len() {
        let length = be(at) as usize;
        let (kind, data) = (&bytes[at + 4..at + 8], &bytes[at + 8..at + 8 + length]);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        assert_eq!(crc.sum(), be(at + 8 + length), "{}: CRC", path.display());
        match kind {
            b"IHDR" => size = (be(at + 8), be(at + 12)),
            b"IDAT" => pixels.extend_from_slice(data),
            b"IEND" => ended = true,
            _ => {}
        }
        at += 12 + length;
    }
    assert!(ended, "{}: no IEND", path.display());
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(pixels.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw.len(), (size.0 as usize * 3 + 1) * size.1 as usize);
    size
}

/// Every file under `dir` with its bytes, in path order.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(contents(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_grid_reports_its_table_statistics_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), GRID);
    let runs = dir.path().join("runs");
    let out = run(bin()
        .args(["--quiet", "--set", "train.epochs=1", "--runs-dir"])
        .arg(&runs)
        .arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    // An interrupted run: a run folder without DONE.
    let unfinished = runs.join("tiny-unfinished/20240101T000000.000Z-000000000000");
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::write(unfinished.join("resolved.toml"), "").unwrap();

    let report_dir = dir.path().join("report");
    let report = || {
        run(bin()
            .arg("report")
            .arg(&runs)
            .arg("--out")
            .arg(&report_dir)
            .args(["--baseline", EARLY]))
    };
    let out = report();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&format!(
        "skipped {}",
        runs.join("tiny-unfinished").display()
    )));

    let md = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    for name in [EARLY, LATE] {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row of {name} in\n{md}"));
        assert!(row.contains(" ± "), "{row}");
    }
    assert!(md.contains("## Statistics: weighted_f1"), "{md}");
    let late_stats = md
        .lines()
        .filter(|l| l.starts_with(&format!("| {LATE} |")))
        .nth(1)
        .unwrap();
    assert!(late_stats.ends_with("over 2 folds |"), "{late_stats}");
    assert!(md.contains(&format!("| {EARLY} |")) && md.contains("| baseline |"));
    assert!(
        md.contains("no finished run (1 unfinished, no DONE)"),
        "{md}"
    );

    let csv = std::fs::read_to_string(report_dir.join("report.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("run,method,path,weighted_f1_mean,weighted_f1_std,"));
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with(&format!("{EARLY},early_fusion,")),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(",paired,"), "{}", lines[2]);

    let figures = report_dir.join("figures");
    let mut expected = vec!["bars-weighted_f1.png".to_string()];
    for name in [EARLY, LATE] {
        expected.push(format!("curves-{name}.png"));
        expected.push(format!("confusion-{name}.png"));
    }
    for file in expected {
        let (width, height) = png_size(&figures.join(&file));
        assert!(width >= 600 && height >= 200, "{file}: {width}x{height}");
        assert!(
            md.contains(&format!("(figures/{file})")),
            "{file} not shown in report.md"
        );
    }

    let first = contents(&report_dir);
    let again = report();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(first == contents(&report_dir), "a rerun changed the report");
}
