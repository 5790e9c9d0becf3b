//! Convex hull of 2D integer points (a slice's voxels) and the point-in-hull test, for
//! the slice-wise hulls of a mass region (necrosis and fat lobules enclosed by it).

/// Bounding ranges `((min0, max0), (min1, max1))` of 2D integer points (empty: inverted).
pub fn bounds(pts: &[(i64, i64)]) -> ((i64, i64), (i64, i64)) {
    pts.iter()
        .fold(((i64::MAX, i64::MIN), (i64::MAX, i64::MIN)), |(a, b), p| {
            ((a.0.min(p.0), a.1.max(p.0)), (b.0.min(p.1), b.1.max(p.1)))
        })
}

/// Convex hull (monotone chain) of 2D integer points; counter-clockwise.
pub fn convex_hull(mut pts: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross =
        |o: (i64, i64), a: (i64, i64), b: (i64, i64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut lower: Vec<(i64, i64)> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<(i64, i64)> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// Whether `p` lies inside or on the counter-clockwise hull `h`.
pub fn in_hull(h: &[(i64, i64)], p: (i64, i64)) -> bool {
    if h.len() < 3 {
        return h.contains(&p);
    }
    (0..h.len()).all(|i| {
        let a = h[i];
        let b = h[(i + 1) % h.len()];
        (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0) >= 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_contains_its_square() {
        let h = convex_hull(vec![(0, 0), (0, 4), (4, 4), (4, 0), (2, 2)]);
        assert_eq!(h.len(), 4);
        assert!(in_hull(&h, (2, 3)));
        assert!(in_hull(&h, (0, 2)));
        assert!(!in_hull(&h, (5, 2)));
    }
}
