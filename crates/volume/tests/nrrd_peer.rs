//! `nrrd_io` against a peer, **pynrrd**, on the real NRRD volumes pyradiomics ships
//! (test-data/real/fetch.sh): sizes, the LPS affine (pynrrd's `space directions` and
//! `space origin`, turned into LPS from the file's `space`), and voxel values (sum, extremes
//! and a spread of single voxels in NRRD's own index order).

#[path = "../../../test-data/real/real_fixture.rs"]
mod real_fixture;

use cavascope_volume::nrrd_io::read_nrrd;
use serde_json::Value;

const PEER: &str = r#"
import json, sys, nrrd, numpy as np
data, h = nrrd.read(sys.argv[1])
space = h.get('space', 'left-posterior-superior')
flip = {'left-posterior-superior': [1, 1, 1], 'right-anterior-superior': [-1, -1, 1],
        'left-anterior-superior': [1, -1, 1]}[space]
dirs = np.asarray(h['space directions'], dtype=float) * flip
origin = np.asarray(h['space origin'], dtype=float) * flip
d = data.astype(np.float64)
idx = [[i * (d.shape[0] - 1) // 6, j * (d.shape[1] - 1) // 6, k * (d.shape[2] - 1) // 6]
       for i in range(7) for j in range(7) for k in range(7)]
print(json.dumps({'shape': list(d.shape), 'dirs': dirs.tolist(), 'origin': origin.tolist(),
                  'sum': float(d.sum()), 'min': float(d.min()), 'max': float(d.max()),
                  'probes': [[i, j, k, float(d[i, j, k])] for i, j, k in idx]}))
"#;

#[test]
fn real_nrrd_volumes_read_as_pynrrd_reads_them() {
    if !cavascope_testkit::require_python(&["nrrd", "numpy"]) {
        return;
    }
    let names = [
        "lung2_image.nrrd",
        "lung1_image.nrrd",
        "brain1_image.nrrd",
        "breast1_image.nrrd",
    ];
    let mut checked = 0;
    for name in names {
        let Some(path) = real_fixture::file(real_fixture::PYRADIOMICS, &format!("data/{name}")) else {
            return;
        };
        let out = std::process::Command::new("python3")
            .args(["-c", PEER])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "pynrrd on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let peer: Value = serde_json::from_slice(&out.stdout).expect("peer prints JSON");
        let (data, g) = read_nrrd(&path).unwrap_or_else(|e| panic!("{e}"));

        let shape: Vec<usize> = peer["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let (nk, nj, ni) = data.dim();
        assert_eq!(vec![ni, nj, nk], shape, "{name}: sizes");

        let a = g.affine();
        for axis in 0..3 {
            for r in 0..3 {
                let want = peer["dirs"][axis][r].as_f64().unwrap();
                assert!(
                    (a[(r, axis)] - want).abs() < 1e-9,
                    "{name}: direction {axis}[{r}] {} vs {want}",
                    a[(r, axis)]
                );
            }
        }
        for r in 0..3 {
            let want = peer["origin"][r].as_f64().unwrap();
            assert!(
                (a[(r, 3)] - want).abs() < 1e-9,
                "{name}: origin[{r}] {} vs {want}",
                a[(r, 3)]
            );
        }

        let sum: f64 = data.iter().map(|&v| v as f64).sum();
        let want = peer["sum"].as_f64().unwrap();
        assert!(
            (sum - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{name}: sum {sum} vs {want}"
        );
        let min = data.iter().copied().fold(f32::INFINITY, f32::min) as f64;
        let max = data.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        assert_eq!(
            (min, max),
            (peer["min"].as_f64().unwrap(), peer["max"].as_f64().unwrap()),
            "{name}: extremes"
        );

        let probes = peer["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 343, "{name}: probe count");
        for p in probes {
            let [i, j, k] = [0, 1, 2].map(|n| p[n].as_u64().unwrap() as usize);
            assert_eq!(
                data[[k, j, i]] as f64,
                p[3].as_f64().unwrap(),
                "{name}: voxel [{i},{j},{k}]"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, names.len());
}
