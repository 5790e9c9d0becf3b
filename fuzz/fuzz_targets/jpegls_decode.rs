//! One JPEG-LS stream straight into cavascope-jpegls: header checks, entropy decoder,
//! limits. Any input must give an image or an error — no panic, no allocation beyond the
//! limit, no hang. Seeds: `fuzz/seed.sh` (phantom slices encoded by our encoder and the
//! corpus's JPEG-LS fragments).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = cavascope_jpegls::Limits {
        expect: None,
        max_samples: 1 << 22,
    };
    if let Ok(img) = cavascope_jpegls::decode(data, limits) {
        let f = img.info;
        assert_eq!(
            img.samples.len() as u64,
            f.width as u64 * f.height as u64 * f.components as u64
        );
    }
});
