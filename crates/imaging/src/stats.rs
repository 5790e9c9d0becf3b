//! Statistics of samples, one implementation each: the median (two even-count
//! conventions, named apart, the upper one for f64 and f32), the median absolute deviation and its scale to a normal SD,
//! and mean with SD. The image-noise estimates built on them are in [`crate::noise`].

/// Median absolute deviation → SD of a normal distribution (1 / Φ⁻¹(3/4) = 1.4826).
pub const MAD_TO_SD: f64 = 1.4826;

/// Median of `v` (reordered in place): the mean of the two middle values for an even
/// count; NaN when empty.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Upper median of `v` (reordered in place): the value of rank n/2 — for an even count
/// the upper of the two middle values — found by selection, without a full sort; `None`
/// when empty.
pub fn upper_median_f32(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    Some(*v.select_nth_unstable_by(mid, f32::total_cmp).1)
}

/// Upper median of `v` (reordered in place), as [`upper_median_f32`] for f64: the value
/// of rank n/2, by selection; `None` when empty.
pub fn upper_median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    Some(*v.select_nth_unstable_by(mid, f64::total_cmp).1)
}

/// Φ⁻¹(3/4) to four digits: a median absolute deviation divided by it is the SD of a
/// normal sample. The divisor form of [`MAD_TO_SD`] (1 / 0.6745 = 1.48258…, not
/// bit-equal to 1.4826): the IVC tracker's Tukey fit was tuned with it, and keeps it so
/// its contours stay the same.
pub const NORMAL_UPPER_QUARTILE: f64 = 0.6745;

/// Robust SD of residuals from their absolute values (reordered in place): the upper
/// median ([`upper_median`]) over [`NORMAL_UPPER_QUARTILE`]; `None` when empty.
pub fn upper_mad_sd(abs_dev: &mut [f64]) -> Option<f64> {
    upper_median(abs_dev).map(|m| m / NORMAL_UPPER_QUARTILE)
}

/// Mean and (population) SD of `v`; `None` when empty.
pub fn mean_sd(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    Some((mean, var.max(0.0).sqrt()))
}

/// Mean and SD of the finite values of `v`; `None` when there is none.
pub fn mean_sd_finite(v: &[f32]) -> Option<(f64, f64)> {
    let f: Vec<f64> = v.iter().filter(|x| x.is_finite()).map(|&x| x as f64).collect();
    mean_sd(&f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_by_convention() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert!(median(&mut []).is_nan());
        assert_eq!(upper_median_f32(&mut [3.0, 1.0, 2.0, 10.0]), Some(3.0));
        assert_eq!(upper_median_f32(&mut [5.0]), Some(5.0));
        assert_eq!(upper_median_f32(&mut []), None);
        assert_eq!(upper_median(&mut [3.0, 1.0, 2.0, 10.0]), Some(3.0));
        assert_eq!(upper_median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(upper_median(&mut []), None);
    }

    #[test]
    fn mean_sd_of_known_samples() {
        let (m, s) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!((m, s), (5.0, 2.0));
        assert_eq!(mean_sd(&[]), None);
        let (m, s) = mean_sd_finite(&[1.0, f32::NAN, 3.0, f32::INFINITY]).unwrap();
        assert_eq!((m, s), (2.0, 1.0));
        assert_eq!(mean_sd_finite(&[f32::NAN]), None);
    }

    #[test]
    fn mad_scale_matches_the_normal_quartile() {
        // Φ⁻¹(3/4) = 0.674489…
        assert!((1.0 / MAD_TO_SD - 0.674_489_75).abs() < 1e-4);
        assert!((NORMAL_UPPER_QUARTILE - 0.674_489_75).abs() < 1e-4);
        // Residuals ±1, ±2, ±3 (and 0): upper median of |r| is 2.
        let mut r = [1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0];
        assert_eq!(upper_mad_sd(&mut r), Some(2.0 / 0.6745));
        assert_eq!(upper_mad_sd(&mut []), None);
    }
}
