//! Hostile and odd input: file system oddities, deep records, interrupted runs.

use crate::util::{run, std_command};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

const RECORD: &str = r#"{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e-1"}"#;

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo");
}

#[test]
fn hostile_fifo_in_a_folder_is_counted_not_read_and_named_fifo_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), RECORD).unwrap();
    mkfifo(&dir.path().join("pipe.json"));
    let (code, out, err) = run(&["search", dir.path().to_str().unwrap(), "-c"]);
    assert_eq!((code, out.trim()), (0, "1"), "{err}");
    assert!(err.contains("1 not log files"), "{err}");

    let fifo = dir.path().join("named.json");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(RECORD.as_bytes()).unwrap();
        })
    };
    let (code, out, err) = run(&["search", fifo.to_str().unwrap(), "-c"]);
    writer.join().unwrap();
    assert_eq!((code, out.trim()), (0, "1"), "{err}");
}

#[test]
fn hostile_file_names_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff\x1b[31mname.json");
    std::fs::write(dir.path().join(name), "{not json").unwrap();
    std::fs::write(dir.path().join("good.json"), RECORD).unwrap();
    let (code, out, err) = run(&["search", dir.path().to_str().unwrap(), "-c"]);
    assert_eq!(code, 2);
    assert_eq!(out.trim(), "1");
    assert!(!err.contains('\u{1b}'), "raw ESC on stderr: {err:?}");
    assert!(err.contains("bad\u{fffd}\\u{1b}[31mname.json"), "{err}");
}

#[test]
fn hostile_symlink_loop_is_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), RECORD).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let (code, out, err) = run(&["search", dir.path().to_str().unwrap(), "-c"]);
    assert_eq!(code, 2);
    assert_eq!(out.trim(), "1");
    assert!(err.contains("symlink loop"), "{err}");
}

#[test]
fn hostile_deep_and_huge_records() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        r#"{{"Records":[{{"eventName":"Deep","eventTime":"2024-01-01T00:00:00Z","requestParameters":{}{}}},{RECORD}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let p = dir.path().join("deep.json");
    std::fs::write(&p, deep).unwrap();
    let p = p.to_str().unwrap();
    // Both records are searchable by their top-level fields, in every format.
    for fmt in ["table", "csv", "jsonl"] {
        let (code, out, err) = run(&["search", p, "-f", fmt]);
        assert_eq!(code, 0, "{fmt}: {err}");
        assert!(out.contains("Deep") && out.contains("CreateUser"), "{fmt}");
    }
    // A pattern that must look inside the deep value reports the record and goes on.
    let (code, out, err) = run(&["search", p, "-c", "-p", r#"{"requestParameters":{"x":[1]}}"#]);
    assert_eq!((code, out.trim()), (2, "0"));
    assert!(err.contains("record 1") && err.contains("recursion limit"), "{err}");

    let big =
        format!(r#"{{"Records":[{{"eventName":"Big","userAgent":"{}"}}]}}"#, "x".repeat(64 << 20));
    let b = dir.path().join("big.json");
    std::fs::write(&b, big).unwrap();
    assert_eq!(run(&["search", b.to_str().unwrap(), "-e", "Big", "-c"]).1.trim(), "1");
}

#[test]
fn hostile_closed_pipe_ends_quietly() {
    let mut child = std_command(&["search", "fixtures", "-f", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 10];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn hostile_ctrl_c_ends_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("slow.json");
    mkfifo(&fifo);
    let child = std_command(&["search", fifo.to_str().unwrap(), "-c"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // trailscan now waits on the FIFO; interrupt it, then let the read finish.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    // The handler runs on its own thread; give it a moment before the read can finish.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    f.write_all(RECORD.as_bytes()).unwrap();
    drop(f);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted") && !err.contains("panicked"), "{err}");
}

#[test]
fn hostile_numbers_beyond_f64_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.json");
    // Found by the read_file fuzzer: valid JSON, but no f64 holds the number.
    let text = format!(r#"{{"Records":[{{"eventName":"X","eventTime":9e8888888}},{RECORD}]}}"#);
    std::fs::write(&p, text).unwrap();
    let p = p.to_str().unwrap();
    let (code, out, err) = run(&["search", p, "-c", "--since", "2000-01-01"]);
    assert_eq!((code, out.trim()), (2, "1"), "{err}");
    assert!(err.contains("record 1") && err.contains("number out of range"), "{err}");
    // In a field nothing reads, the number is no obstacle: the record is found and printed
    // as it is.
    let q = dir.path().join("param.json");
    let text = r#"{"eventName":"Y","eventTime":"2024-01-01T00:00:00Z","requestParameters":{"n":9e8888888}}"#;
    std::fs::write(&q, text).unwrap();
    let (code, out, err) = run(&["search", q.to_str().unwrap(), "-e", "Y", "-f", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("9e8888888"));
}
