"""A realistic, seeded demo year for one province, written as the files staff receive.

- An enterprise population drawn to the province's margins (sector, size, ownership, district).
- Unequal response: larger firms, firms in industrial zones and in the provincial city answer
  more, so weighting has work to do.
- Answers driven by a latent quality of the province on each PGI sub-index and by firm traits
  (foreign-invested firms are more critical; zone firms are inspected more; larger firms get
  more support), with skip logic applied and a few "don't know" answers.
- Twelve monthly waves of ``monthly_difficulties`` as KoboToolbox CSV exports, and one wave of
  ``pgi_feedback`` as an SPSS ``.sav`` file, with a few bad rows of the kinds staff see
  (an unknown district code, a year in the future, a repeated submission, a misspelt answer, a district
  code in a wave after 1 July 2025).
- Waves before 2025-07 record the firm's district, waves from 2025-07 its commune or ward of the new
  Bac Ninh (one that counts in the firm's district by the crosswalk of :mod:`survey.places`).

All names, phones and e-mails are invented.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .questionnaire import Questionnaire, evaluate, load_questionnaire, write_sav
from .places import load_communes
from .reference import margins_path
from .weights.margins import PopulationMargins, load_margins

__all__ = ["DemoFiles", "make_population", "make_responses", "write_demo", "demo_files", "LATENT"]

#: latent chance of a favourable answer on each sub-index, for the demo province
LATENT = {"risk": 0.48, "standards": 0.52, "leadership": 0.45, "incentives": 0.30}
_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
_GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thu Hà", "Đức Huy", "Thanh Lan", "Hữu Nghĩa"]
_FIRM = ["Công ty TNHH", "Công ty CP", "Doanh nghiệp tư nhân", "Công ty TNHH MTV"]
_WORDS = ["Phú Thịnh", "Hoàng Long", "Việt Hưng", "Bắc Hà", "Minh Phát", "Thành Công", "An Khang", "Đại Việt"]
_DIFFICULTY_TEXT = {
    1: "Hồ sơ cấp giấy phép môi trường phải bổ sung nhiều lần, thời gian xử lý kéo dài",
    2: "Trong năm có nhiều đoàn kiểm tra với nội dung trùng lặp",
    3: "Chi phí vận hành hệ thống xử lý nước thải cao so với quy mô sản xuất",
    4: "Chưa có đơn vị thu gom chất thải rắn công nghiệp gần cơ sở",
    5: "Thiết bị xử lý khí thải chưa đáp ứng quy chuẩn mới",
    6: "Yêu cầu lắp đặt quan trắc tự động, kết nối dữ liệu vượt khả năng tài chính",
    7: "Chi phí bảo vệ môi trường tăng mạnh trong khi đơn hàng giảm",
    8: "- Thiếu hướng dẫn cụ thể về thủ tục đăng ký môi trường",  # a dash, as staff type a list
    9: "Chưa được bố trí đất để xây dựng khu xử lý nước thải",
    10: "Khó khăn khác về môi trường",
}


@dataclass
class DemoFiles:
    """Where the demo files were written."""

    folder: Path
    monthly: list[tuple[str, Path]]      # (period, Kobo CSV)
    feedback: tuple[str, Path]           # (period, .sav)
    margins: Path


def _split(total: int, shares: np.ndarray) -> np.ndarray:
    return np.round(shares / shares.sum() * total).astype(int)


def make_population(margins: PopulationMargins, seed: int = 2025) -> pd.DataFrame:
    """Enterprises of the province (one row each) with sector, size_class, ownership, site, locality
    (a district) and commune (the commune or ward of the new Bac Ninh the firm is in from 1 July 2025,
    one of those that count in its district)."""
    rng = np.random.default_rng(seed)
    n = int(margins.total)
    communes = set(load_communes()["code"])
    frame = {}
    for m in margins.margins:
        counts = m.counts().to_numpy()
        labels = np.repeat(np.arange(len(counts)), _split(n, counts))[:n]
        labels = np.pad(labels, (0, n - len(labels)), mode="edge")
        # a locality category lists its district and the communes that count in it: draw the district
        codes = [rng.choice([c for c in m.categories[i].codes if c not in communes]) for i in rng.permutation(labels)]
        frame[m.question] = np.asarray(codes, dtype=float)
    pop = pd.DataFrame(frame)
    if "locality" in pop:
        pop["commune"] = _communes_of(pop["locality"], margins, communes, seed)
    zone_p = np.where(pop["sector"].between(2, 6), 0.45, 0.08)
    pop["site"] = np.where(rng.random(n) < zone_p, rng.choice([1.0, 2.0], n, p=[0.65, 0.35]), 3.0)
    pop["year_established"] = rng.integers(1995, 2025, n).astype(float)
    return pop


def _communes_of(districts: pd.Series, margins: PopulationMargins, communes: set, seed: int) -> pd.Series:
    """A commune or ward for each firm, among those its district's margin category lists (their own
    random stream, so the rest of the population is as it was)."""
    rng = np.random.default_rng(seed + 7)
    margin = next(m for m in margins.margins if m.question == "locality")
    choices = {float(code): [c for c in cat.codes if c in communes] for cat in margin.categories for code in cat.codes
               if code not in communes}
    return pd.Series([float(rng.choice(choices[d])) if choices.get(d) else np.nan for d in districts],
                     index=districts.index)


def _respondents(pop: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw respondents with unequal response: large, zone and city firms answer more."""
    p = 0.5 + 0.35 * pop["size_class"] + np.where(pop["site"] < 3, 0.8, 0.0) + np.where(pop["locality"] == 1, 0.5, 0)
    idx = rng.choice(len(pop), size=n, replace=False, p=(p / p.sum()).to_numpy())
    return pop.iloc[idx].reset_index(drop=True)


def _ordinal(prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-5 answers whose chance of 4 or 5 is ``prob``."""
    u = rng.random(len(prob))
    high = u < prob
    return np.where(high, np.where(rng.random(len(prob)) < 0.35, 5, 4),
                    rng.choice([1, 2, 3], size=len(prob), p=[0.2, 0.35, 0.45])).astype(float)


def _answer(qn: Questionnaire, q, firms: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    n = len(firms)
    section = q.section
    fdi = (firms["ownership"] == 3).to_numpy()
    zone = (firms["site"] < 3).to_numpy()
    size = firms["size_class"].to_numpy()
    base = LATENT.get(section, 0.5) - 0.10 * fdi + 0.02 * (size - 2)
    base = np.clip(base + rng.normal(0, 0.08, n), 0.02, 0.98)
    if q.id in firms.columns:
        return firms[q.id]
    if q.type in ("likert",):
        values = _ordinal(base, rng)
        if q.choices == "severity":
            values = rng.choice([1, 2, 3, 4], n, p=[0.3, 0.4, 0.2, 0.1]).astype(float)
    elif q.type == "yesno":
        rate = {"inspected": 0.25 + 0.35 * zone, "permit_applied": 0.15 + 0.05 * size, "hazard_affected": 0.3,
                "pollution_affected": 0.35, "had_difficulty": 0.55 + 0.1 * zone, "green_guidance": base,
                "dialogue_attended": 0.2 + 0.05 * size}.get(q.id, base)
        values = (rng.random(n) < rate).astype(float)
    elif q.type == "multiple":
        codes = [c.code for c in qn.choices(q)]
        if q.id == "supports_received":
            got = [sorted(rng.choice(codes[:-1], size=rng.integers(1, 3), replace=False).tolist())
                   if rng.random() < LATENT["incentives"] + 0.05 * s else [codes[-1]] for s in size]
        else:
            got = [sorted(rng.choice(codes, size=rng.integers(1, 3), replace=False).tolist()) for _ in range(n)]
        return pd.Series([" ".join(map(str, g)) for g in got], dtype=object)
    elif q.is_select:
        values = rng.choice([c.code for c in qn.choices(q, with_missing=False)], n).astype(float)
    elif q.is_numeric:
        scale = {"hazard_loss_pct": 6.0, "inspection_count": 1.5, "permit_days": 60.0, "permit_cost": 40.0,
                 "cost_estimate": 80.0}.get(q.id, 10.0)
        values = np.round(rng.gamma(2.0, scale / 2.0, n) + (1 if q.id == "inspection_count" else 0),
                          0 if q.type == "integer" else 1)
        lo, hi = q.range
        values = np.clip(values, lo if isinstance(lo, (int, float)) else 0, hi if isinstance(hi, (int, float)) else None)
    elif q.type == "date":
        return pd.Series([dt.date(2025, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n)], dtype=object)
    else:
        return pd.Series([None] * n, dtype=object)
    if q.missing and q.is_select:
        values = np.where(rng.random(n) < 0.04, float(q.missing[0]), values)
    return pd.Series(values, dtype=float)


def _people(frame: pd.DataFrame, rng: np.random.Generator, prefix: str) -> pd.DataFrame:
    n = len(frame)
    frame["firm_name"] = [f"{rng.choice(_FIRM)} {rng.choice(_WORDS)} {i + 1}" for i in range(n)]
    if "contact_name" in frame:
        frame["contact_name"] = [f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}" for _ in range(n)]
        frame["contact_phone"] = [f"09{rng.integers(10**7, 10**8)}" for _ in range(n)]
        frame["contact_email"] = [f"lienhe.{prefix}{i}@doanhnghiep.vn" for i in range(n)]
    elif "contact_email" in frame:
        frame["contact_email"] = [f"dn.{prefix}{i}@doanhnghiep.vn" if rng.random() < 0.4 else None for i in range(n)]
    return frame


def make_responses(qn: Questionnaire, pop: pd.DataFrame, n: int, seed: int, prefix: str = "r") -> pd.DataFrame:
    """``n`` answer rows (codes) for a questionnaire, skip logic and constraints respected."""
    rng = np.random.default_rng(seed)
    firms = _respondents(pop, n, rng)
    frame = pd.DataFrame(index=range(n))
    if qn.locality is not None and qn.locality.level == "commune" and "commune" in firms:
        firms = firms.assign(locality=firms["commune"])  # from 1 July 2025 a firm names its commune or ward
    for q in qn.questions:
        frame[q.id] = _answer(qn, q, firms, rng).to_numpy()
        if q.relevant is not None:
            shown = evaluate(q.relevant, frame).to_numpy()
            frame[q.id] = frame[q.id].where(shown, None if frame[q.id].dtype == object else np.nan)
    if "main_difficulty" in frame:
        first = frame["difficulty_types"].map(lambda v: float(v.split()[0]) if isinstance(v, str) else np.nan)
        frame["main_difficulty"] = first.where(frame["main_difficulty"].notna())
    if "description" in frame:
        frame["description"] = [None if not isinstance(t, str) else _DIFFICULTY_TEXT[int(t.split()[0])]
                                for t in frame["difficulty_types"]]
        frame["difficulty_other"] = frame["difficulty_other"].where(frame["difficulty_other"].isna(), "Mùi hôi từ cơ sở lân cận")
        frame["proposal"] = frame["description"].map(
            lambda d: None if pd.isna(d) else "Đề nghị hướng dẫn và rút ngắn thời gian")
    return _people(frame, rng, prefix)


def _kobo(frame: pd.DataFrame, qn: Questionnaire, uuids: list[str], period: str) -> pd.DataFrame:
    cols = {}
    for section in qn.sections:
        for q in section.questions:
            col = frame[q.id]
            cols[f"{section.id}/{q.id}"] = col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                                   else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    out = pd.DataFrame(cols)
    out.insert(0, "start", f"{period}-15T08:00:00")
    out["_id"] = range(1, len(out) + 1)
    out["_uuid"] = uuids
    out["_submission_time"] = f"{period}-20T09:30:00"
    out["__version__"] = "v2026.1"
    return out


def write_demo(folder: str | Path, *, year: int = 2025, province: str = "bac_giang", monthly_n: int = 60,
               feedback_n: int = 700, seed: int = 2025) -> DemoFiles:
    """Write the demo year into ``folder``; return where each file is.

    The files carry the bad rows described in the module docstring, in the months
    2 and 7 and in the feedback survey, so that ingestion shows its quarantine.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    margins = margins_path(province, 2024)
    pop = make_population(load_margins(margins), seed)
    feedback = load_questionnaire("pgi_feedback", province=province, period=f"{year}-11")
    files = []
    for month in range(1, 13):
        period = f"{year}-{month:02d}"
        # districts before 2025-07, communes and wards from then (the wave's own list)
        monthly = load_questionnaire("monthly_difficulties", province=province, period=period)
        answers = make_responses(monthly, pop, monthly_n, seed + month, prefix=f"m{month}_")
        uuids = [f"{period}-{i:04d}" for i in range(monthly_n)]
        kobo = _kobo(answers, monthly, uuids, period)
        if month == 2:
            kobo.loc[3, "profile/locality"] = "14"                  # a district code that does not exist
            kobo.loc[5, "profile/year_established"] = "2090"       # a year in the future
        if month == 7:
            kobo = pd.concat([kobo, kobo.iloc[[0]]], ignore_index=True)  # the same submission twice
            kobo.loc[2, "difficulties/severity"] = "rất nặng"      # a label that is not an answer
            if monthly.locality is not None and monthly.locality.level == "commune":
                kobo.loc[4, "profile/locality"] = "3"               # a district code after 1 July 2025
        path = folder / f"kobo_monthly_difficulties_{period}.csv"
        kobo.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
        files.append((period, path))
    answers = make_responses(feedback, pop, feedback_n, seed + 100, prefix="f")
    answers.loc[10, "sector"] = 25.0  # a sector code outside VSIC 2018
    period = f"{year}-11"
    sav = write_sav(feedback, folder / f"pgi_feedback_{period}.sav", answers, include_personal=True)
    return DemoFiles(folder, files, (period, sav), margins)


def demo_files(folder: str | Path, year: int = 2025) -> DemoFiles:
    """Where :func:`write_demo` put the files of a demo year written earlier into ``folder``."""
    folder = Path(folder)
    margins = margins_path("bac_giang", 2024)
    return DemoFiles(folder, sorted((p.stem[-7:], p) for p in folder.glob("kobo_*.csv")),
                     (f"{year}-11", folder / f"pgi_feedback_{year}-11.sav"), margins)
