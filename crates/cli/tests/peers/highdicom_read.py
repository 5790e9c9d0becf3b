"""Read cavascope's DICOM SEG and TID 1500 SR back with highdicom (a peer) and print
what they hold as JSON, for crates/cli/tests/dicom_out.rs to compare with report.json
and the NIfTI label maps.

usage: highdicom_read.py SEG.dcm SR.dcm
"""
import json
import sys

import highdicom as hd


def code(c):
    return None if c is None else {"value": c.value, "scheme": c.scheme_designator, "meaning": c.meaning}


def read_seg(path):
    seg = hd.seg.segread(path)
    out = {
        "rows": int(seg.Rows),
        "columns": int(seg.Columns),
        "frames": int(seg.NumberOfFrames),
        "frame_of_reference_uid": str(seg.FrameOfReferenceUID),
        "study_instance_uid": str(seg.StudyInstanceUID),
        "sop_instance_uid": str(seg.SOPInstanceUID),
        "referenced_series": [str(s.SeriesInstanceUID) for s in seg.ReferencedSeriesSequence],
        "segments": [],
        "pixels": {},
    }
    sources = []
    for s in seg.ReferencedSeriesSequence:
        for i in s.ReferencedInstanceSequence:
            sources.append(str(i.ReferencedSOPInstanceUID))
    for n in seg.segment_numbers:
        d = seg.get_segment_description(n)
        out["segments"].append({
            "number": int(n),
            "label": d.segment_label,
            "category": code(d.segmented_property_category),
            "type": code(d.segmented_property_type),
            "algorithm_type": d.algorithm_type.value,
            "tracking_uid": d.tracking_uid,
        })
        arr = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=sources,
            segment_numbers=[n],
            assert_missing_frames_are_empty=False,
        )
        per = {}
        for uid, plane in zip(sources, arr[..., 0]):
            idx = plane.reshape(-1).nonzero()[0]
            if len(idx):
                per[uid] = [int(x) for x in idx]
        out["pixels"][str(n)] = per
    return out


def read_sr(path):
    sr = hd.sr.srread(path)
    report = hd.sr.MeasurementReport.from_sequence([sr])
    groups = []
    for kind, gs in (
        ("volumetric", report.get_volumetric_roi_measurement_groups()),
        ("image", report.get_image_measurement_groups()),
    ):
        for g in gs:
            entry = {
                "kind": kind,
                "tracking_identifier": g.tracking_identifier,
                "tracking_uid": g.tracking_uid,
                "finding": code(g.finding_type),
                "referenced_segment": None,
                "measurements": [],
                "evaluations": [],
            }
            if kind == "volumetric":
                rs = g.referenced_segment
                if rs is not None:
                    entry["referenced_segment"] = {
                        "segment_number": int(rs.referenced_segment_numbers[0]),
                        "sop_instance_uid": str(rs.referenced_sop_instance_uid),
                    }
            for m in g.get_measurements():
                mods = {}
                lines = []
                for c in getattr(m[0], "ContentSequence", []):
                    if c.ValueType == "CODE":
                        mods[c.ConceptNameCodeSequence[0].CodeMeaning] = c.ConceptCodeSequence[0].CodeMeaning
                    elif c.ValueType == "SCOORD":
                        img = c.ContentSequence[0].ReferencedSOPSequence[0]
                        lines.append({
                            "graphic_type": c.GraphicType,
                            "points": [float(x) for x in c.GraphicData],
                            "sop_instance_uid": str(img.ReferencedSOPInstanceUID),
                        })
                entry["measurements"].append({
                    "name": code(m.name),
                    "value": float(m.value),
                    "unit": code(m.unit),
                    "modifiers": mods,
                    "lines": lines,
                })
            for e in g.get_qualitative_evaluations():
                entry["evaluations"].append({"name": code(e.name), "value": code(e.value)})
            groups.append(entry)
    return {"groups": groups, "study_instance_uid": str(sr.StudyInstanceUID)}


if __name__ == "__main__":
    print(json.dumps({"seg": read_seg(sys.argv[1]), "sr": read_sr(sys.argv[2])}))
