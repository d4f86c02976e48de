"""PAdES baseline levels (ETSI EN 319 142-1) of each signature."""
from __future__ import annotations

from .state import _AnalysisState
from .trust import _declares_revinfo


class _LevelRules(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

    # -- levels ------------------------------------------------------------------------------------
    def _assign_levels(self) -> None:
        doc_ts = [it for it in self.items
                  if it["report"].kind == "document_timestamp" and it["checked_ok"]
                  and it["revision"] is not None]
        for it in self.items:
            rep = it["report"]
            if rep.kind != "signature" or rep.subfilter != "ETSI.CAdES.detached":
                rep.level = None
                continue
            if not it["checked_ok"]:
                rep.level = None
                continue
            st = it["status"]
            level = "B-B"
            rev = it["revision"] if it["revision"] is not None else -1
            later_ts = [t for t in doc_ts if t["revision"] > rev]
            tsv = getattr(st, "timestamp_validity", None)
            if (tsv is not None and tsv.intact and tsv.valid) or later_ts:
                level = "B-T"
                chain = [st.signing_cert]
                if st.validation_path is not None:
                    try:
                        chain = [c for c in st.validation_path.iter_certs(include_root=False)]
                    except Exception:  # noqa: BLE001
                        pass
                if self._dss() is not None and all(
                        self._has_revinfo_in_dss(c) for c in chain if _declares_revinfo(c)):
                    level = "B-LT"
                    for t in later_ts:
                        try:
                            hist = self.reader.get_historical_resolver(t["revision"])
                            if "/DSS" in hist.root:
                                level = "B-LTA"
                                break
                        except Exception:  # noqa: BLE001
                            continue
            rep.level = level
