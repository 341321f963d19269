"""Personal data masked in firms' free text before staff review it and before it leaves the association.

Firms type phones, e-mails, tax codes, web addresses, people's and firms' names into the
description and proposal of a case although the questionnaire keeps contacts apart. Every
free text a report shows passes through :func:`mask_text` (staff review the masked text and
may edit it; an edit is masked again), so none of these reaches the People's Committee even
when a reviewer misses one.

The rules are patterns, not a language model (none runs offline here): they over-mask rather
than under-mask. A place that looks like a person ("Hà Nội") is kept by a short list.
"""
from __future__ import annotations

import re

__all__ = ["mask_text", "MASKS"]

#: what replaces each kind of personal data (Vietnamese: the reader of every output is Vietnamese staff)
MASKS = {"email": "[email]", "url": "[liên kết]", "phone": "[SĐT]", "tax": "[MST]", "number": "[số]",
         "person": "[họ tên]", "firm": "[tên DN]"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|vn|net|org|info|biz)(?:\.vn)?\b(?:/\S*)?")
_TAX = re.compile(r"(?i)\b(?:MST|mã số thuế|mã số DN|mã số doanh nghiệp)\s*[:.]?\s*[\d .\-]{8,16}\d")
# runs of digits with separators: phones (0..., +84...), tax codes (10 or 10-3 digits), ids
_DIGITS = re.compile(r"(?<![\w.,])\+?\(?\d[\d .\-()]{6,20}\d(?![\w])")
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:[.,]\d{3})+(?:[.,]\d+)?")  # 1.500.000 (an amount, kept)

_HONORIFIC = re.compile(r"(?i)\b(ông|bà|anh|chị|cô|chú|bác|em|mr|mrs|ms|giám đốc|gđ|trưởng phòng|kế toán)\.?\s+")
_FIRM = re.compile(r"(?i)\b(công ty|cty|c\.ty|doanh nghiệp tư nhân|dntn|hợp tác xã|htx|tập đoàn|nhà máy"
                   r"|xí nghiệp|tổ hợp)\b\.?\s*")
_FAMILY = {"nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ", "hồ", "ngô",
           "dương", "lý", "đinh", "trịnh", "đào", "mai", "tạ", "lương", "cao", "hà", "thái", "lâm", "chu", "vương",
           "trương", "kiều", "quách", "tô", "đoàn", "phùng", "triệu", "lưu", "thân", "giáp", "nông", "lục"}
#: capitalised pairs that start like a person's name but are places or bodies
_PLACES = {"hà nội", "hà nam", "hà tĩnh", "hà giang", "cao bằng", "lâm đồng", "lục nam", "lục ngạn", "hồ chí",
           "thái nguyên", "thái bình", "lê lợi", "phan thiết", "đồng nai", "ngô quyền", "trần phú", "lê duẩn",
           "lạng giang"}
#: words of a firm's legal form, lower case: part of its name even when not capitalised
_LEGAL = {"tnhh", "mtv", "cp", "cổ", "phần", "một", "hai", "thành", "viên", "trở", "lên", "trách", "nhiệm", "hữu",
          "hạn", "&", "và", "jsc", "co.,", "ltd", "ltd.", "co.", "-"}
_WORD = re.compile(r"\S+")


def _is_name_word(word: str) -> bool:
    core = word.strip(",.;:!?()\"'“”")
    return bool(core) and core[0].isupper() and (core[0].isalpha() or core[0].isdigit())


def _name_end(text: str, start: int, legal: bool, max_words: int = 8) -> int:
    """Where a name starting at ``start`` ends: capitalised words (and, for a firm, words of its legal
    form, and up to two lower-case words between capitalised ones)."""
    end, taken, pending, prev = start, 0, [], start
    for m in _WORD.finditer(text, start):
        if text[prev:m.start()].strip():
            break
        word = m.group()
        core = word.strip(",.;:!?()\"'“”").lower()
        if _is_name_word(word) or (legal and core in _LEGAL):
            end, taken, pending = m.start() + len(word.rstrip(",.;:!?)\"”")), taken + 1, []
            if word != word.rstrip(",.;:!?)\"”") or taken >= max_words:
                break
        elif legal and taken and len(pending) < 2 and word.isalpha():
            pending.append(m)
        else:
            break
        prev = m.end()
    return end


def _mask_named(text: str, pattern: re.Pattern, mask: str, legal: bool) -> str:
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue
        end = _name_end(text, m.end(), legal)
        if end > m.end():
            keep = "" if legal else m.group()
            out += [text[pos:m.start()], keep, mask]
            pos = end
    return "".join(out) + text[pos:]


def _mask_family_names(text: str) -> str:
    """Full names without an honorific: a common family name followed by one to three capitalised words."""
    words = list(_WORD.finditer(text))
    out, pos, i = [], 0, 0
    while i < len(words):
        w = words[i].group().strip(",.;:!?()\"'“”")
        run = 0
        if w.lower() in _FAMILY and _is_name_word(w):
            while run < 3 and i + 1 + run < len(words) and _is_name_word(words[i + 1 + run].group()):
                run += 1
                if words[i + run].group() != words[i + run].group().rstrip(",.;:!?)"):
                    break
        pair = " ".join(x.group().strip(",.;:!?()").lower() for x in words[i:i + 2])
        if run and pair not in _PLACES and words[i].start() >= pos:
            last = words[i + run]
            out += [text[pos:words[i].start()], MASKS["person"]]
            pos = last.start() + len(last.group().rstrip(",.;:!?)\"”"))
            i += run + 1
        else:
            i += 1
    return "".join(out) + text[pos:]


def _mask_digits(match: re.Match) -> str:
    token = match.group()
    digits = re.sub(r"\D", "", token)
    if _AMOUNT.fullmatch(token.strip()) or len(digits) < 8:
        return token
    return MASKS["phone"] if token.lstrip("(").startswith(("0", "+84", "84")) and len(digits) <= 12 \
        else MASKS["number"]


def mask_text(text: object) -> str:
    """``text`` with phones, e-mails, tax codes, web addresses and people's and firms' names masked.

    ``None`` and NaN give "". Masking a masked text changes nothing, so staff edits are masked again
    safely. Examples: "gọi anh Tuấn 0912 345 678" -> "gọi anh [họ tên] [SĐT]"; "Công ty TNHH Minh
    Phát xả thải" -> "[tên DN] xả thải".
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = str(text)
    text = _EMAIL.sub(MASKS["email"], text)
    text = _URL.sub(MASKS["url"], text)
    text = _TAX.sub(MASKS["tax"], text)
    text = _DIGITS.sub(_mask_digits, text)
    text = _mask_named(text, _FIRM, MASKS["firm"], legal=True)
    text = _mask_named(text, _HONORIFIC, MASKS["person"], legal=False)
    return _mask_family_names(text)
