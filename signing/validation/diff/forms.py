"""Change rules for form fields (AcroForm) and page annotations."""
from __future__ import annotations

from typing import Any

from ..state import _AnalysisState
from .graph import (
    _COMMENT_SUBTYPES,
    _DRAWING_SUBTYPES,
    _MAX_COMMENT_AREA_RATIO,
    _Change,
    _collect_fields,
    _deref,
    _FieldInfo,
    _Graph,
    _has_visible_appearance,
    _page_area,
    _pget,
    _rect_area,
    _rect_of,
    _ref_key,
    _strokes_only,
)


def _need_appearances(acro: Any) -> bool:
    try:
        return bool(_pget(acro, "/NeedAppearances", False))
    except Exception:  # noqa: BLE001
        return True


def _fields_with_values(root: Any) -> list[str]:
    """Names of the non-signature fields that hold a value a viewer could draw."""
    from pyhanko.pdf_utils import generic

    out = []
    for name, f in _collect_fields(root).items():
        if f.ftype == "/Sig" or "/V" not in f.obj:
            continue
        v = _pget(f.obj, "/V")
        if v is None or isinstance(v, generic.NullObject):
            continue
        if isinstance(v, (generic.TextStringObject, generic.ByteStringObject)) and not str(v):
            continue
        if isinstance(v, generic.NameObject) and v == "/Off":
            continue
        out.append(name)
    return out


class _FormAndAnnotationRules(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

    def _diff_acroform(self, og: _Graph, ng: _Graph, old_root: Any, new_root: Any,
                       docmdp: int | None, fieldmdp: Any, validated: dict[str, Any],
                       changes: list[_Change], widget_changes_ok: set[tuple[int, int]],
                       new_widget_kinds: dict[tuple[int, int], str]) -> None:
        from pyhanko.pdf_utils import generic

        def dis(text: str) -> None:
            changes.append(_Change("disallowed", text))

        oa = _pget(old_root, "/AcroForm") if "/AcroForm" in old_root else None
        na = _pget(new_root, "/AcroForm") if "/AcroForm" in new_root else None
        if oa is not None and na is None:
            dis("Biểu mẫu (AcroForm) của tài liệu bị xóa.")
            return
        if na is None:
            return
        if not isinstance(na, generic.DictionaryObject):
            dis("Biểu mẫu (AcroForm) không hợp lệ.")
            return
        oa_d = oa if isinstance(oa, generic.DictionaryObject) else generic.DictionaryObject()
        for key in set(oa_d.keys()) | set(na.keys()):
            if key == "/Fields":
                continue
            if not self._differs(og, ng, oa_d, na, key):
                continue
            if key == "/SigFlags":
                continue
            if key == "/DR" and self._dr_only_added(og, ng, oa_d, na):
                continue
            if key in ("/NeedAppearances", "/DA"):
                if key == "/DA" and not _need_appearances(na):
                    changes.append(_Change("housekeeping", "Kiểu chữ mặc định của biểu mẫu "
                                                           "(/DA) được cập nhật."))
                elif not _fields_with_values(new_root):
                    # nothing to redraw: no field (other than signatures) has a value
                    changes.append(_Change("housekeeping", "Biểu mẫu được đặt để trình xem vẽ "
                                                           "lại các trường trống "
                                                           f"({key})."))
                else:
                    dis("Biểu mẫu bị đặt để trình xem vẽ lại hình thức các trường đã có giá "
                        f"trị ({key}): nội dung hiển thị có thể khác bản đã ký.")
            elif key == "/XFA":
                dis("Biểu mẫu XFA bị thêm hoặc thay đổi.")
            else:
                dis(f"Thiết lập biểu mẫu bị thay đổi ({key}).")

        old_fields = _collect_fields(old_root)
        new_fields = _collect_fields(new_root)
        for name in old_fields:
            if name not in new_fields:
                dis(f"Trường biểu mẫu “{name}” bị xóa.")
        value_keys = frozenset({"/V", "/Kids", "/AP", "/AS", "/M"})
        for name, nf in new_fields.items():
            of = old_fields.get(name)
            is_sig = nf.ftype == "/Sig"
            if of is None:
                if not is_sig:
                    dis(f"Thêm trường biểu mẫu mới “{name}”.")
                    continue
                kind = self._new_sig_field_kind(nf, validated)
                for w in nf.widgets:
                    k = _ref_key(w)
                    if k is not None:
                        new_widget_kinds[k] = kind
                if kind == "signature_field_visible_unsigned":
                    dis(f"Thêm trường chữ ký trống “{name}” có hình thức hiển thị che lên "
                        "trang.")
                elif kind == "signature":
                    if docmdp == 1:
                        dis(f"Thêm chữ ký “{name}” trong khi người chứng nhận không cho phép "
                            "bất kỳ thay đổi nào.")
                    elif self._certification_p is not None:
                        dis(f"Thêm trường chữ ký mới “{name}” sau chữ ký chứng nhận (tài liệu "
                            "đã chứng nhận chỉ cho phép ký vào các trường chữ ký có sẵn).")
                    else:
                        changes.append(_Change("signature", f"Thêm chữ ký “{name}”.", name))
                elif kind == "timestamp":
                    changes.append(_Change("timestamp", f"Thêm dấu thời gian “{name}”.", name))
                elif kind == "empty_sig_field":
                    changes.append(_Change("empty_sig_field", f"Thêm trường chữ ký trống "
                                                              f"“{name}”.", name))
                else:
                    dis(f"Thêm trường chữ ký “{name}” mang chữ ký không kiểm tra được (giả "
                        "mạo hình thức chữ ký).")
                continue
            # existing field
            if (of.ftype or None) != (nf.ftype or None):
                dis(f"Loại của trường “{name}” bị thay đổi.")
                continue
            if ng.digest(nf.obj, exclude=value_keys) != og.digest(of.obj, exclude=value_keys):
                dis(f"Thuộc tính của trường “{name}” bị thay đổi.")
                continue
            old_widgets = {_ref_key(w) for w in of.widgets}
            new_widgets = {_ref_key(w) for w in nf.widgets}
            if not new_widgets <= old_widgets:
                dis(f"Trường “{name}” bị thêm vùng hiển thị mới.")
            ov = of.obj.raw_get("/V") if "/V" in of.obj else None
            nv = nf.obj.raw_get("/V") if "/V" in nf.obj else None
            if ov is None and nv is None:
                continue
            if ov is not None and nv is not None and og.digest(ov) == ng.digest(nv):
                continue
            if is_sig:
                if ov is None:
                    kind = self._new_sig_field_kind(nf, validated)
                    if kind == "signature" and docmdp == 1:
                        dis(f"Ký vào trường “{name}” trong khi người chứng nhận không cho phép "
                            "bất kỳ thay đổi nào.")
                    elif kind in ("signature", "timestamp"):
                        changes.append(_Change(kind, f"Ký vào trường chữ ký “{name}”.", name))
                    else:
                        dis(f"Trường chữ ký “{name}” được điền giá trị không hợp lệ.")
                        continue
                    widget_changes_ok.update(k for k in new_widgets if k is not None)
                else:
                    dis(f"Chữ ký trong trường “{name}” bị thay thế hoặc xóa.")
                continue
            # a value of an ordinary field changed: form filling
            try:
                ff = int(_pget(nf.obj, "/Ff", 0))
            except Exception:  # noqa: BLE001
                ff = 0
            locked = False
            if fieldmdp is not None:
                try:
                    locked = fieldmdp.is_locked(name)
                except Exception:  # noqa: BLE001
                    locked = True
            if ff & 1:
                dis(f"Trường chỉ đọc “{name}” bị thay đổi giá trị.")
            elif locked:
                dis(f"Trường “{name}” đã bị khóa khi ký nhưng vẫn bị thay đổi giá trị.")
            elif docmdp is not None and docmdp < 2:
                dis(f"Trường “{name}” bị điền giá trị trong khi người ký không cho phép thay "
                    "đổi.")
            else:
                changes.append(_Change("form_fill", f"Điền giá trị cho trường biểu mẫu "
                                                    f"“{name}”.", name))
                widget_changes_ok.update(k for k in new_widgets if k is not None)

    @staticmethod
    def _dr_only_added(og: _Graph, ng: _Graph, oa: Any, na: Any) -> bool:
        """Whether the default resources only gained entries (e.g. a font for a new field)."""
        from pyhanko.pdf_utils import generic

        o = _pget(oa, "/DR") if "/DR" in oa else generic.DictionaryObject()
        n = _pget(na, "/DR") if "/DR" in na else None
        if not isinstance(n, generic.DictionaryObject) or not isinstance(
                o, generic.DictionaryObject):
            return False
        for cat in o.keys():
            if cat not in n:
                return False
            oc, nc = _pget(o, cat), _pget(n, cat)
            if isinstance(oc, generic.DictionaryObject) and isinstance(
                    nc, generic.DictionaryObject):
                for k in oc.keys():
                    if k not in nc or og.digest(oc.raw_get(k)) != ng.digest(nc.raw_get(k)):
                        return False
            elif og.digest(o.raw_get(cat)) != ng.digest(n.raw_get(cat)):
                return False
        return True

    def _new_sig_field_kind(self, nf: _FieldInfo, validated: dict[str, Any]) -> str:
        value = _pget(nf.obj, "/V") if "/V" in nf.obj else None
        if value is not None:
            it = validated.get(nf.name)
            if it is None or not it["checked_ok"]:
                return "invalid"  # a signature that does not verify: spoofing
            return "timestamp" if it["report"].kind == "document_timestamp" else "signature"
        for w in nf.widgets:
            if _has_visible_appearance(_deref(w)):
                return "signature_field_visible_unsigned"
        return "empty_sig_field"

    def _diff_annots(self, og: _Graph, ng: _Graph, op: Any, np_: Any, idx: int,
                     inh: dict[str, Any], docmdp: int | None, changes: list[_Change],
                     widget_changes_ok: set[tuple[int, int]],
                     new_widget_kinds: dict[tuple[int, int], str]) -> None:
        from pyhanko.pdf_utils import generic

        cur: dict[str, Any] = {"rect": None}

        def dis(text: str) -> None:
            changes.append(_Change("disallowed", text, page=idx, rect=cur["rect"]))

        def entries(page: Any) -> list[Any]:
            if "/Annots" not in page:
                return []
            arr = _deref(page.raw_get("/Annots"))
            return list(arr) if isinstance(arr, generic.ArrayObject) else []

        old = entries(op)
        new = entries(np_)
        new_keys = {_ref_key(a) for a in new if _ref_key(a) is not None}
        old_keys = {_ref_key(a) for a in old if _ref_key(a) is not None}
        old_direct = [og.digest(a) for a in old if _ref_key(a) is None]
        new_direct = [ng.digest(a) for a in new if _ref_key(a) is None]
        if sorted(old_direct) != sorted(new_direct):
            dis(f"Chú thích trực tiếp trên trang {idx} bị thay đổi.")  # whole page
        appearance_keys = frozenset({"/AP", "/AS", "/V", "/M"})
        for a in old:
            cur["rect"] = _rect_of(a)
            k = _ref_key(a)
            if k is None:
                continue
            if k not in new_keys:
                dis(f"Một chú thích/ô hiển thị trên trang {idx} bị xóa.")
                continue
            na = generic.IndirectObject(a.reference.idnum, a.reference.generation,
                                        ng.resolver)
            if k in widget_changes_ok:
                if og.digest(a, exclude=appearance_keys) != ng.digest(na, exclude=appearance_keys):
                    dis(f"Thuộc tính của một ô biểu mẫu trên trang {idx} bị thay đổi.")
            elif og.digest(a) != ng.digest(na):
                sub = str(_pget(_deref(na), "/Subtype", "?"))
                dis(f"Chú thích hoặc hình thức hiển thị có sẵn trên trang {idx} bị thay đổi "
                    f"({sub}).")
        page_area = _page_area(inh, np_)
        for a in new:
            cur["rect"] = _rect_of(a)
            k = _ref_key(a)
            if k is None or k in old_keys:
                continue
            annot = _deref(a)
            if not isinstance(annot, generic.DictionaryObject):
                continue
            subtype = str(_pget(annot, "/Subtype", ""))
            if subtype == "/Widget":
                kind = new_widget_kinds.get(k)
                if kind in ("signature", "timestamp", "empty_sig_field"):
                    continue
                if kind is None:
                    dis(f"Thêm ô hiển thị (widget) không thuộc trường chữ ký nào trên trang "
                        f"{idx}.")
                continue  # other kinds already reported by the form analysis
            has_action = "/A" in annot or "/AA" in annot
            area = _rect_area(annot)
            if not has_action and (
                    (subtype in _COMMENT_SUBTYPES
                     and (area <= page_area * _MAX_COMMENT_AREA_RATIO
                          or not _has_visible_appearance(annot)))
                    or (subtype in _DRAWING_SUBTYPES and _strokes_only(annot))):
                if docmdp is not None and docmdp < 3:
                    dis(f"Thêm chú thích ({subtype[1:]}) trên trang {idx} trong khi người ký "
                        "không cho phép.")
                else:
                    changes.append(_Change("annotation", f"Thêm ghi chú ({subtype[1:]}) trên "
                                                         f"trang {idx}.", page=idx,
                                           rect=cur["rect"]))
            else:
                dis(f"Thêm chú thích có thể che phủ hoặc thay đổi nội dung hiển thị "
                    f"({subtype[1:] or 'không rõ loại'}) trên trang {idx}.")
