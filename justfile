# cavascope recipes (https://github.com/casey/just: `cargo install just`)

# The demo: generate the bundled phantom study and analyse it.
demo:
    cargo run --release

# Every test (the command CI runs).
test:
    cargo test --workspace

# Criterion benchmarks and the peer comparisons.
bench:
    cargo bench --workspace
    bash benches/compare_dcm2niix.sh

# Fetch the public DICOM test corpus into the cache (tests do this on first use too).
corpus:
    bash test-data/corpus/fetch.sh
