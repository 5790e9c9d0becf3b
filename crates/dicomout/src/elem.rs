//! Small helpers to build data sets with dicom-object.

use crate::codes::Code;
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

pub type Obj = InMemDicomObject;

pub fn put_str(o: &mut Obj, tag: Tag, vr: VR, v: &str) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::from(v)));
}

/// A type-2 attribute: present, empty.
pub fn put_empty(o: &mut Obj, tag: Tag, vr: VR) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::Empty));
}

pub fn put_u16(o: &mut Obj, tag: Tag, v: u16) {
    o.put(DataElement::new(tag, VR::US, PrimitiveValue::from(v)));
}

pub fn put_seq(o: &mut Obj, tag: Tag, items: Vec<Obj>) {
    o.put(DataElement::new(tag, VR::SQ, DataSetSequence::from(items)));
}

/// A decimal string of at most 16 characters (the DS limit).
pub fn ds_str(x: f64) -> String {
    for d in (0..=6).rev() {
        let s = format!("{x:.d$}");
        if s.len() <= 16 {
            return s;
        }
    }
    format!("{x:.6E}")
}

pub fn put_ds(o: &mut Obj, tag: Tag, v: &[f64]) {
    o.put(DataElement::new(
        tag,
        VR::DS,
        PrimitiveValue::Strs(v.iter().map(|&x| ds_str(x)).collect()),
    ));
}

/// A code sequence item.
pub fn code_item(c: &Code) -> Obj {
    let mut o = Obj::new_empty();
    put_str(&mut o, tags::CODE_VALUE, VR::SH, &c.value);
    put_str(&mut o, tags::CODING_SCHEME_DESIGNATOR, VR::SH, &c.scheme);
    put_str(&mut o, tags::CODE_MEANING, VR::LO, &c.meaning);
    o
}

pub fn put_code(o: &mut Obj, tag: Tag, c: &Code) {
    put_seq(o, tag, vec![code_item(c)]);
}

/// A Referenced SOP Class UID / Referenced SOP Instance UID item.
pub fn sop_ref(class: &str, instance: &str) -> Obj {
    let mut x = Obj::new_empty();
    put_str(&mut x, tags::REFERENCED_SOP_CLASS_UID, VR::UI, class);
    put_str(&mut x, tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, instance);
    x
}

/// DICOM date and time (UTC) of now: `(YYYYMMDD, HHMMSS)`.
pub fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let tod = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}{m:02}{d:02}"),
        format!("{:02}{:02}{:02}", tod / 3600, (tod / 60) % 60, tod % 60),
    )
}

/// A new UID under the 2.25 root (a random 122-bit UUID as a decimal integer, PS3.5 B.2).
pub fn new_uid() -> String {
    let mut x: u128 = rand::random();
    // Version-4 UUID bits, as the 2.25 form expects a UUID.
    x = (x & !(0xF000u128 << 64)) | (0x4000u128 << 64);
    x = (x & !(0xC000u128 << 48)) | (0x8000u128 << 48);
    format!("2.25.{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ds_fits_sixteen_characters() {
        for x in [
            0.0,
            1.5,
            -123456.789012,
            1.0e12,
            -9.87654321e-7,
            123456789012345.0,
        ] {
            let s = ds_str(x);
            assert!(s.len() <= 16, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - x).abs() <= 1e-6 * x.abs().max(1.0), "{x} -> {s}");
        }
    }

    #[test]
    fn uid_is_valid() {
        let u = new_uid();
        assert!(
            u.len() <= 64 && u.starts_with("2.25.") && !u[5..].starts_with('0'),
            "{u}"
        );
        assert_ne!(u, new_uid());
    }

    #[test]
    fn date_is_plausible() {
        let (d, t) = now_utc();
        assert_eq!(d.len(), 8);
        assert_eq!(t.len(), 6);
        assert!(d.as_str() > "20240101", "{d}");
    }
}
