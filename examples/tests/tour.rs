//! The guided tour, the README's first command: it runs to its end against its embedded
//! server and shows what each step promises.

use std::process::Command;

#[test]
fn the_tour_runs_every_step() {
    let out = Command::new(env!("CARGO_BIN_EXE_tour"))
        .output()
        .expect("run the tour binary");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the tour failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=15 {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{step}. "))),
            "step {step} missing:\n{text}"
        );
    }
    for promise in [
        "GET with a wrong secret: HTTP 403",
        "downloaded in 4 MiB ranges: 25165824 bytes, identical: true",
        "no byte through the client: ETag ",
        "readable by everyone: true",
        "while open, visible in the bucket: false",
        "after close, visible in the bucket: true",
        "That was every crate.",
    ] {
        assert!(text.contains(promise), "`{promise}` missing:\n{text}");
    }
    // The secret is never printed, whatever the step.
    assert!(!text.contains(sos_testing::SECRET_KEY), "{text}");
}
