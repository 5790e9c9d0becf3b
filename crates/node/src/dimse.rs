//! DIMSE command sets (PS3.7 §9, §E): always Implicit VR Little Endian.

use dicom_core::{dicom_value, DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;

pub const C_STORE_RQ: u16 = 0x0001;
pub const C_STORE_RSP: u16 = 0x8001;
pub const C_ECHO_RQ: u16 = 0x0030;
pub const C_ECHO_RSP: u16 = 0x8030;
/// Command Data Set Type: no data set follows.
const NO_DATA_SET: u16 = 0x0101;

pub const STATUS_SUCCESS: u16 = 0x0000;
/// Refused: out of resources (PS3.4 Table B.2-1).
pub const STATUS_OUT_OF_RESOURCES: u16 = 0xA700;
/// Error: cannot understand.
pub const STATUS_CANNOT_UNDERSTAND: u16 = 0xC000;
/// Refused: SOP class not supported.
pub const STATUS_SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
/// Unrecognized operation.
pub const STATUS_UNRECOGNIZED_OPERATION: u16 = 0x0211;

/// The fields of a request this node acts on.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub field: u16,
    pub message_id: u16,
    pub sop_class: String,
    pub sop_instance: String,
    pub has_data_set: bool,
    pub status: Option<u16>,
}

fn uid_of(obj: &InMemDicomObject, tag: dicom_core::Tag) -> String {
    obj.element(tag)
        .ok()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}

/// Decode a command set; `Err` says why.
pub fn parse(bytes: &[u8]) -> Result<Command, String> {
    let ts = IMPLICIT_VR_LITTLE_ENDIAN.erased();
    let obj = InMemDicomObject::read_dataset_with_ts(bytes, &ts)
        .map_err(|e| format!("unreadable command set: {e}"))?;
    let field = obj
        .element(tags::COMMAND_FIELD)
        .ok()
        .and_then(|e| e.uint16().ok())
        .ok_or("command set without a Command Field")?;
    let message_id = obj
        .element(tags::MESSAGE_ID)
        .or_else(|_| obj.element(tags::MESSAGE_ID_BEING_RESPONDED_TO))
        .ok()
        .and_then(|e| e.uint16().ok())
        .unwrap_or(0);
    let has_data_set = obj
        .element(tags::COMMAND_DATA_SET_TYPE)
        .ok()
        .and_then(|e| e.uint16().ok())
        .map(|v| v != NO_DATA_SET)
        .unwrap_or(false);
    let status = obj.element(tags::STATUS).ok().and_then(|e| e.uint16().ok());
    Ok(Command {
        field,
        message_id,
        sop_class: uid_of(&obj, tags::AFFECTED_SOP_CLASS_UID),
        sop_instance: uid_of(&obj, tags::AFFECTED_SOP_INSTANCE_UID),
        has_data_set,
        status,
    })
}

fn encode(obj: &InMemDicomObject) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let ts = IMPLICIT_VR_LITTLE_ENDIAN.erased();
    // Writing a handful of fixed elements into memory cannot fail.
    if let Err(e) = obj.write_dataset_with_ts(&mut out, &ts) {
        tracing::error!("encoding a command set: {e}");
    }
    out
}

pub fn echo_rsp(message_id: u16) -> Vec<u8> {
    encode(&InMemDicomObject::command_from_element_iter([
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            dicom_value!(Str, "1.2.840.10008.1.1"),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [C_ECHO_RSP])),
        DataElement::new(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            VR::US,
            dicom_value!(U16, [message_id]),
        ),
        DataElement::new(
            tags::COMMAND_DATA_SET_TYPE,
            VR::US,
            dicom_value!(U16, [NO_DATA_SET]),
        ),
        DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [STATUS_SUCCESS])),
    ]))
}

pub fn store_rsp(rq: &Command, status: u16, comment: Option<&str>) -> Vec<u8> {
    let mut elems = vec![
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            dicom_value!(Str, rq.sop_class.as_str()),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [C_STORE_RSP])),
        DataElement::new(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            VR::US,
            dicom_value!(U16, [rq.message_id]),
        ),
        DataElement::new(
            tags::COMMAND_DATA_SET_TYPE,
            VR::US,
            dicom_value!(U16, [NO_DATA_SET]),
        ),
        DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [status])),
        DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            dicom_value!(Str, rq.sop_instance.as_str()),
        ),
    ];
    if let Some(c) = comment {
        // Error Comment is at most 64 characters (LO).
        let c: String = c
            .chars()
            .filter(|c| !c.is_control() && *c != '\\')
            .take(64)
            .collect();
        elems.push(DataElement::new(
            tags::ERROR_COMMENT,
            VR::LO,
            dicom_value!(Str, c),
        ));
    }
    encode(&InMemDicomObject::command_from_element_iter(elems))
}

pub fn store_rq(message_id: u16, sop_class: &str, sop_instance: &str) -> Vec<u8> {
    encode(&InMemDicomObject::command_from_element_iter([
        DataElement::new(tags::AFFECTED_SOP_CLASS_UID, VR::UI, dicom_value!(Str, sop_class)),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [C_STORE_RQ])),
        DataElement::new(tags::MESSAGE_ID, VR::US, dicom_value!(U16, [message_id])),
        DataElement::new(tags::PRIORITY, VR::US, dicom_value!(U16, [0x0000])),
        // Any value but 0x0101 says a data set follows.
        DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0x0000])),
        DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            dicom_value!(Str, sop_instance),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_rq_round_trips() {
        let c = parse(&store_rq(7, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4")).unwrap();
        assert_eq!((c.field, c.message_id), (C_STORE_RQ, 7));
        assert_eq!(c.sop_class, "1.2.840.10008.5.1.4.1.1.2");
        assert_eq!(c.sop_instance, "1.2.3.4");
        assert!(c.has_data_set);
        let r = parse(&store_rsp(&c, STATUS_OUT_OF_RESOURCES, Some("disk\nfull"))).unwrap();
        assert_eq!((r.field, r.message_id, r.status), (C_STORE_RSP, 7, Some(0xA700)));
        assert!(!r.has_data_set);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(&[0xFF; 7]).is_err());
        assert!(parse(&[]).is_err());
    }
}
