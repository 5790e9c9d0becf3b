//! Hostile and damaged streams (the in-tree counterpart of the `jpegls_decode` fuzz
//! target): random bytes, and valid streams with bytes changed, inserted or cut, give an
//! image or an error — never a panic, never more samples than the limit allows.

use cavascope_jpegls::{decode, encode, Limits};
use proptest::prelude::*;

fn stream(seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let px: Vec<u16> = (0..40 * 24)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if (i / 40 + i % 40) % 5 < 2 {
                900
            } else {
                (s % 4096) as u16
            }
        })
        .collect();
    encode(&px, 40, 24, 12, (seed % 3) as u8).unwrap()
}

const LIMITS: Limits = Limits {
    expect: None,
    max_samples: 1 << 16,
};

fn check(data: &[u8]) {
    if let Ok(img) = decode(data, LIMITS) {
        let f = img.info;
        assert!(img.samples.len() as u64 <= LIMITS.max_samples);
        assert_eq!(
            img.samples.len() as u64,
            f.width as u64 * f.height as u64 * f.components as u64
        );
        let max = (1u32 << f.precision) - 1;
        assert!(img.samples.iter().all(|&v| (v as u32) <= max));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(&data);
        let mut with_soi = vec![0xFF, 0xD8, 0xFF, 0xF7];
        with_soi.extend(&data);
        check(&with_soi);
    }

    #[test]
    fn damaged_valid_streams(seed in any::<u64>(), edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut d = stream(seed);
        for (pos, byte, kind) in edits {
            let p = pos % (d.len() + 1);
            match kind {
                0 if p < d.len() => d[p] = byte,
                1 => d.insert(p, byte),
                _ => d.truncate(p.max(1)),
            }
        }
        check(&d);
    }
}
