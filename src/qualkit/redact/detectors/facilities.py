"""Facilities, streets and villages written as a keyword and a name: "<Name> Centre",
"<Name> village", "khách sạn <Name>", "Hotel <Name>", "District 4", "ngõ 12"."""

from __future__ import annotations

from typing import Sequence

from ...textnorm import fold
from ..phrases import TokenView
from ..spans import Span
from .base import Words, shared_words

#: keyword (folded) -> label, for "<Name> keyword" (suffix) forms
SUFFIX_KEYWORDS: dict[str, str] = {}
for _kw in (
    "centre center shelter hotel motel guesthouse hostel inn karaoke club bar pub cafe coffee "
    "restaurant massage parlour parlor spa salon brothel hospital clinic school university college "
    "pagoda temple church mosque station camp prison factory mall plaza building apartments airport "
    "checkpoint hall"
).split():
    SUFFIX_KEYWORDS[_kw] = "FACILITY"
for _kw in (
    "guest house|border gate|border post|border checkpoint|police station|bus station|train station|"
    "karaoke bar|coffee shop|massage parlour|massage parlor|beer garden|night club|nightclub|rescue centre|"
    "social protection centre|drop-in centre|drop in centre|shelter house"
).split("|"):
    SUFFIX_KEYWORDS[_kw] = "FACILITY"
for _kw in (
    "street st road rd avenue ave lane alley boulevard blvd highway bridge lake park market square "
    "village hamlet commune ward district province town township city island beach bay river "
    "mountain mountains hill hills pass quarter port harbour harbor delta canal waterfall cave "
    "islands estate"
).split():
    SUFFIX_KEYWORDS[_kw] = "PLACE"
for _kw in ("night market|border area|industrial zone|industrial park|economic zone|residential area|urban area").split(
    "|"
):
    SUFFIX_KEYWORDS[_kw] = "PLACE"

#: keyword (folded) -> (label, accent-sensitive original form or None), for "keyword <Name>" forms
PREFIX_KEYWORDS: dict[str, tuple[str, str | None]] = {}
for _kw, _label in (
    ("khách sạn", "FACILITY"),
    ("nhà nghỉ", "FACILITY"),
    ("nhà hàng", "FACILITY"),
    ("quán", "FACILITY"),
    ("quán karaoke", "FACILITY"),
    ("trung tâm", "FACILITY"),
    ("mái ấm", "FACILITY"),
    ("nhà tạm lánh", "FACILITY"),
    ("câu lạc bộ", "FACILITY"),
    ("clb", "FACILITY"),
    ("bến xe", "FACILITY"),
    ("cửa khẩu", "PLACE"),
    ("đồn biên phòng", "FACILITY"),
    ("trạm", "FACILITY"),
    ("trường", "FACILITY"),
    ("bệnh viện", "FACILITY"),
    ("chùa", "FACILITY"),
    ("nhà thờ", "FACILITY"),
    ("chợ", "PLACE"),
    ("cầu", "PLACE"),
    ("hồ", "PLACE"),
    ("công viên", "PLACE"),
    ("làng", "PLACE"),
    ("thôn", "PLACE"),
    ("bản", "PLACE"),
    ("ấp", "PLACE"),
    ("xóm", "PLACE"),
    ("buôn", "PLACE"),
    ("tổ dân phố", "PLACE"),
    ("khu phố", "PLACE"),
    ("tổ", "PLACE"),
    ("đường", "PLACE"),
    ("phố", "PLACE"),
    ("ngõ", "PLACE"),
    ("ngách", "PLACE"),
    ("hẻm", "PLACE"),
    ("kiệt", "PLACE"),
    ("số nhà", "PLACE"),
    ("số", "PLACE"),
    ("quận", "PLACE"),
    ("huyện", "PLACE"),
    ("phường", "PLACE"),
    ("xã", "PLACE"),
    ("tỉnh", "PLACE"),
    ("thành phố", "PLACE"),
    ("thị xã", "PLACE"),
    ("thị trấn", "PLACE"),
    ("tp", "PLACE"),
    ("khu", "PLACE"),
    ("đảo", "PLACE"),
    ("bãi biển", "PLACE"),
    ("núi", "PLACE"),
    ("sông", "PLACE"),
    ("cảng", "PLACE"),
    ("bến", "PLACE"),
    ("vịnh", "PLACE"),
):
    _f = fold(_kw)
    # short Vietnamese keywords that are English words once folded must be written with their accents
    PREFIX_KEYWORDS[_f] = (
        _label,
        _kw
        if len(_f) <= 4
        and _f
        in {
            "so",
            "ho",
            "cau",
            "cho",
            "ban",
            "pho",
            "quan",
            "to",
            "ben",
            "khu",
            "nui",
            "song",
            "dao",
            "tram",
            "chua",
            "xa",
            "tinh",
            "ngo",
            "ap",
            "xom",
            "thon",
            "lang",
            "buon",
            "hem",
            "kiet",
            "tp",
        }
        and _kw != "tp"
        else None,
    )
for _kw, _label in (
    ("hotel", "FACILITY"),
    ("karaoke", "FACILITY"),
    ("club", "FACILITY"),
    ("bar", "FACILITY"),
    ("cafe", "FACILITY"),
    ("massage", "FACILITY"),
    ("spa", "FACILITY"),
    ("restaurant", "FACILITY"),
    ("lake", "PLACE"),
    ("mount", "PLACE"),
    ("mt", "PLACE"),
    ("district", "PLACE"),
    ("ward", "PLACE"),
    ("hamlet", "PLACE"),
    ("zone", "PLACE"),
    ("commune", "PLACE"),
    ("village", "PLACE"),
    ("province", "PLACE"),
    ("camp", "FACILITY"),
    ("centre", "FACILITY"),
    ("center", "FACILITY"),
    ("shelter", "FACILITY"),
    ("block", "PLACE"),
    ("group", "PLACE"),
):
    PREFIX_KEYWORDS.setdefault(_kw, (_label, "Title"))
#: prefixes after which a bare number is a place ("District 1", "Quận 3", "ngõ 12", "hẻm 34/5")
NUMBERED_PREFIXES = frozenset(
    fold(w)
    for w in (
        "district quận q ward phường p hamlet ấp zone khu phố tổ ngõ ngách hẻm kiệt số block group commune xã".split()
    )
)


class KeywordDetector:
    """A facility or place keyword with the capitalised name before or after it."""

    name = "facilities"

    def __init__(self, words: Words | None = None) -> None:
        self.words = words or shared_words()
        self._suffix_first = {k.split()[0] for k in SUFFIX_KEYWORDS}
        self._suffix_max = max(len(k.split()) for k in SUFFIX_KEYWORDS)
        self._prefix_max = max(len(k.split()) for k in PREFIX_KEYWORDS)
        self._prefix_first = {k.split()[0] for k in PREFIX_KEYWORDS}

    def detect(self, view: TokenView, turns: Sequence | None = None) -> list[Span]:
        out: list[Span] = []
        folded, caps, text = view.folded, view.caps, view.text
        n = len(folded)
        i = 0
        while i < n:
            f = folded[i]
            # suffix form: "<Name> Centre", "<Name> village"
            if f in self._suffix_first:
                for m in range(self._suffix_max, 0, -1):
                    if i + m > n:
                        continue
                    kw = " ".join(folded[i : i + m])
                    if kw in SUFFIX_KEYWORDS and all(view.joined(x) for x in range(i, i + m - 1)):
                        sp = self._name_before(view, i, i + m, SUFFIX_KEYWORDS[kw])
                        if sp:
                            out.append(sp)
                        break
            # prefix form: "khách sạn <Name>", "Hotel <Name>", "District 4", "ngõ 12"
            if f in self._prefix_first:
                for m in range(self._prefix_max, 0, -1):
                    if i + m > n:
                        continue
                    kw = " ".join(folded[i : i + m])
                    spec = PREFIX_KEYWORDS.get(kw)
                    if spec is None or not all(view.joined(x) for x in range(i, i + m - 1)):
                        continue
                    label, form = spec
                    written = text[view.starts[i] : view.ends[i + m - 1]]
                    if form == "Title" and not caps[i]:
                        continue
                    if form not in (None, "Title") and written.lower() != form:
                        continue
                    sp = self._name_after(view, i, i + m, label, numbered=kw in NUMBERED_PREFIXES or kw in ("so nha",))
                    if sp:
                        out.append(sp)
                    break
            i += 1
        return out

    @staticmethod
    def _tight(view: TokenView, i: int) -> bool:
        """Tokens i and i+1 belong to one facility name: a space, slash or hyphen between them."""
        return i + 1 < len(view.starts) and view.text[view.ends[i] : view.starts[i + 1]] in (
            " ",
            "/",
            "-",
            "\u00a0",
            "'",
            "’",
            ". ",
        )

    def _name_token_ok(self, view: TokenView, j: int) -> bool:
        f = view.folded[j]
        if f.isdigit():
            return True
        return view.caps[j] and f not in self.words.lex.stop

    def _name_before(self, view: TokenView, kw_start: int, kw_end: int, label: str) -> Span | None:
        j = kw_start - 1
        # "Thien Phuoc vocational school": lower-case descriptors between the name and the keyword
        skipped = 0
        while (
            j >= 0
            and skipped < 2
            and view.joined(j)
            and not view.caps[j]
            and view.folded[j] in self.words.lex.generic
            and view.folded[j] not in self.words.lex.stop
        ):
            j -= 1
            skipped += 1
        names: list[int] = []
        while j >= 0 and len(names) < 5 and view.joined(j) and self._tight(view, j) and self._name_token_ok(view, j):
            names.append(j)
            j -= 1
        if not names:
            return None
        names.reverse()
        # leading generic words ("the Social ...") do not start the name
        while names and self.words.is_generic(view.folded[names[0]]) and not view.folded[names[0]].isdigit():
            names.pop(0)
        if not names or not self.words.distinctive(view.folded[x] for x in names):
            return None
        return Span(view.starts[names[0]], view.ends[kw_end - 1], label, "facility")

    def _name_after(self, view: TokenView, kw_start: int, kw_end: int, label: str, numbered: bool) -> Span | None:
        j = kw_end
        names: list[int] = []
        n = len(view.folded)
        last = kw_end - 1
        while (
            j < n and len(names) < 4 and view.joined(last) and self._tight(view, last) and self._name_token_ok(view, j)
        ):
            names.append(j)
            last = j
            j += 1
        if not names:
            return None
        toks = [view.folded[x] for x in names]
        if not (self.words.distinctive(toks) or (numbered and toks[0].isdigit())):
            return None
        return Span(view.starts[kw_start], view.ends[names[-1]], label, "facility")
