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
    sla_hours: int = Field(gt=0)
    photo_required: bool = True

    @property
    def label(self) -> str:
        return f"{self.name} / {self.name_en}"


def _c(code: str, name: str, name_en: str, sla_hours: int, photo: bool = True) -> Category:
    return Category(code=code, name=name, name_en=name_en, sla_hours=sla_hours, photo_required=photo)


# Emergencies get hours and no photo requirement (nobody should stop to photograph a fire);
# repairs that need budget and crews get days.
CATEGORIES: Mapping[str, Category] = MappingProxyType(
    {
        c.code: c
        for c in (
            _c("jalan_rusak", "Jalan rusak", "Damaged road", 168),
            _c("trotoar", "Trotoar rusak", "Damaged sidewalk", 168),
            _c("drainase", "Drainase tersumbat", "Blocked drain", 72),
            _c("banjir", "Banjir atau genangan", "Flooding", 6),
            _c("sampah", "Sampah menumpuk", "Uncollected rubbish", 24),
            _c("lampu_jalan", "Lampu jalan mati", "Street light out", 72),
            _c("lampu_lalu_lintas", "Lampu lalu lintas rusak", "Traffic light fault", 24),
            _c("rambu_lalu_lintas", "Rambu lalu lintas rusak", "Damaged traffic sign", 72),
            _c("parkir_liar", "Parkir liar", "Illegal parking", 24),
            _c("pkl", "Pedagang kaki lima liar", "Unlicensed street vendors", 72),
            _c("bangunan_liar", "Bangunan liar", "Unlicensed building", 336),
            _c("reklame_liar", "Reklame liar", "Illegal billboard", 168),
            _c("pohon_tumbang", "Pohon tumbang", "Fallen tree", 6),
            _c("taman", "Taman kota rusak", "Damaged city park", 168),
            _c("fasilitas_umum", "Fasilitas umum rusak", "Damaged public facility", 168),
            _c("air_bersih", "Air bersih tidak mengalir", "No clean water supply", 24, photo=False),
            _c("kebakaran", "Kebakaran", "Fire", 1, photo=False),
            _c("bencana", "Bencana alam", "Natural disaster", 2, photo=False),
            _c("lainnya", "Lainnya", "Other", 72, photo=False),
        )
    }
)


def get_category(code: str) -> Category | None:
    """The category with this code, or None."""
    return CATEGORIES.get(code)
