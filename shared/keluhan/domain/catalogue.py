"""The categories a citizen can report, each with its handling target (SLA)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field


class Category(BaseModel):
    """One report category; `code` is stable and stored on every report."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str  # Indonesian, as the Warga app shows it
    name_en: str
    # The handling target: working days (WITA, Indonesia's calendar) for work that waits for
    # office days, or clock hours for emergencies that do not.
    sla_working_days: float | None = Field(default=None, gt=0)
    sla_hours: float | None = Field(default=None, gt=0)
    photo_required: bool = True
    # Public views (Open311) round the point to ~110 m: a report of this kind points at a home
    # or a person (a house without water, a street vendor, an unlicensed building).
    point_private: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} / {self.name_en}"


def _c(code: str, name: str, name_en: str, *, days: float | None = None, hours: float | None = None,
       photo: bool = True, private: bool = False) -> Category:
    return Category(code=code, name=name, name_en=name_en, sla_working_days=days, sla_hours=hours,
                    photo_required=photo, point_private=private)


# Emergencies get clock hours and no photo requirement (nobody should stop to photograph a
# fire); repairs that need budget and crews get working days.
CATEGORIES: Mapping[str, Category] = MappingProxyType(
    {
        c.code: c
        for c in (
            _c("jalan_rusak", "Jalan rusak", "Damaged road", days=7),
            _c("trotoar", "Trotoar rusak", "Damaged sidewalk", days=7),
            _c("drainase", "Drainase tersumbat", "Blocked drain", days=3),
            _c("banjir", "Banjir atau genangan", "Flooding", hours=6),
            _c("sampah", "Sampah menumpuk", "Uncollected rubbish", days=1),
            _c("lampu_jalan", "Lampu jalan mati", "Street light out", days=3),
            _c("lampu_lalu_lintas", "Lampu lalu lintas rusak", "Traffic light fault", days=1),
            _c("rambu_lalu_lintas", "Rambu lalu lintas rusak", "Damaged traffic sign", days=3),
            _c("parkir_liar", "Parkir liar", "Illegal parking", days=1, private=True),
            _c("pkl", "Pedagang kaki lima liar", "Unlicensed street vendors", days=3, private=True),
            _c("bangunan_liar", "Bangunan liar", "Unlicensed building", days=14, private=True),
            _c("reklame_liar", "Reklame liar", "Illegal billboard", days=7),
            _c("pohon_tumbang", "Pohon tumbang", "Fallen tree", days=1),
            _c("taman", "Taman kota rusak", "Damaged city park", days=7),
            _c("fasilitas_umum", "Fasilitas umum rusak", "Damaged public facility", days=7),
            _c("air_bersih", "Air bersih tidak mengalir", "No clean water supply", days=1, photo=False, private=True),
            _c("kebakaran", "Kebakaran", "Fire", hours=1, photo=False, private=True),
            _c("bencana", "Bencana alam", "Natural disaster", hours=2, photo=False),
            _c("lainnya", "Lainnya", "Other", days=3, photo=False, private=True),
        )
    }
)


def get_category(code: str) -> Category | None:
    """The category with this code, or None."""
    return CATEGORIES.get(code)


def known_category(code: str, *, field: str = "kategori / category") -> str:
    """The code, if a category has it; else ValueError naming the field (Indonesian / English)."""
    if get_category(code) is None:
        name_id, _, name_en = field.partition(" / ")
        raise ValueError(f"{name_id} tidak dikenal / unknown {name_en or name_id}")
    return code
