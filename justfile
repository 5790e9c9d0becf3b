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

# Fuzz the DICOM reading (header scan, volume assembly, pixel decoding), SECONDS per target.
# Needs `cargo install cargo-fuzz --locked`; see docs/reliability.md.
fuzz seconds="600":
    bash fuzz/run.sh {{seconds}}

# A batch over phantom studies (one deliberately broken), sharded in two, then merged.
batch-example:
    cargo build --release
    rm -rf target/batch-example && mkdir -p target/batch-example/studies
    for c in normal ivc_leiomyosarcoma extrinsic_compression; do ./target/release/cavascope phantom --case $c --out target/batch-example/studies/$c; done
    mkdir -p target/batch-example/studies/broken && echo "not DICOM" > target/batch-example/studies/broken/junk.dcm
    -./target/release/cavascope batch target/batch-example/studies --out target/batch-example/out --shard 1/2
    -./target/release/cavascope batch target/batch-example/studies --out target/batch-example/out --shard 2/2
    -./target/release/cavascope batch target/batch-example/studies --out target/batch-example/out --resume
    cat target/batch-example/out/summary.csv
