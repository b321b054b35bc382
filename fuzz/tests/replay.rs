//! Replays the corpus (seeds, what the fuzzer found, and every crasher it ever reported) through the
//! same checks as the fuzz targets, on stable Rust: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "{target}: a corpus of {} inputs",
        files.len()
    );
    for path in &files {
        let data = std::fs::read(path).expect("a corpus file");
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            panic!("{target}: {} fails: {panic:?}", path.display());
        }
    }
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), sketchy_fuzz::$target);
            }
        )*
    };
}

replay_tests!(
    from_bytes,
    hll_from_datasketches,
    kll_from_datasketches,
    topk_from_datasketches,
    reader,
);
