"""Who a report can be assigned to: city SKPDs, kecamatan offices, external bodies, triage."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict

AssigneeKind = Literal["skpd", "external", "triage"]

TRIAGE_ID = "triage"


class Assignee(BaseModel):
    """One assignee: an SKPD of the city, an external body, or the operators' triage queue."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    name_en: str
    kind: AssigneeKind

    @property
    def display(self) -> str:
        """What the citizen sees once the report is with this assignee."""
        if self.kind == "external":
            return f"diteruskan ke {self.name} / forwarded to {self.name_en}"
        if self.kind == "triage":
            return "menunggu triase operator / awaiting operator triage"
        return f"ditangani {self.name} / handled by {self.name_en}"


# Kemendagri codes and names of the 15 kecamatan (from ../shared/geo/makassar_wilayah_kode.csv).
KECAMATAN: Mapping[str, str] = MappingProxyType(
    {
        "73.71.01": "Mariso",
        "73.71.02": "Mamajang",
        "73.71.03": "Makassar",
        "73.71.04": "Ujung Pandang",
        "73.71.05": "Wajo",
        "73.71.06": "Bontoala",
        "73.71.07": "Tallo",
        "73.71.08": "Ujung Tanah",
        "73.71.09": "Panakkukang",
        "73.71.10": "Tamalate",
        "73.71.11": "Biringkanaya",
        "73.71.12": "Manggala",
        "73.71.13": "Rappocini",
        "73.71.14": "Tamalanrea",
        "73.71.15": "Kepulauan Sangkarrang",
    }
)


def _skpd(id: str, name: str, name_en: str) -> Assignee:
    return Assignee(id=id, name=name, name_en=name_en, kind="skpd")


def _external(id: str, name: str, name_en: str) -> Assignee:
    return Assignee(id=id, name=name, name_en=name_en, kind="external")


def _build() -> dict[str, Assignee]:
    entries = [
        _skpd("dinas-pu", "Dinas Pekerjaan Umum", "the Public Works Agency"),
        _skpd("dlh", "Dinas Lingkungan Hidup", "the Environment Agency"),
        _skpd("dishub", "Dinas Perhubungan", "the Transport Agency"),
        _skpd("satpol-pp", "Satpol PP", "the Municipal Police (Satpol PP)"),
        _skpd("pdam", "Perumda Air Minum", "the city water utility (PDAM)"),
        _skpd("bpbd", "BPBD Kota Makassar", "the Disaster Management Agency (BPBD)"),
        _skpd("damkar", "Dinas Pemadam Kebakaran", "the Fire Department (Damkar)"),
        *(
            _skpd(f"kecamatan-{kode}", f"Kantor Kecamatan {nama}", f"the Kecamatan {nama} office")
            for kode, nama in KECAMATAN.items()
        ),
        _external("baruga", "Pemprov Sulsel", "the South Sulawesi provincial government"),
        _external("bbpjn", "BBPJN Sulsel", "the national road authority (BBPJN South Sulawesi)"),
        _external("kab-maros", "Pemkab Maros", "the Maros regency government"),
        _external("kab-gowa", "Pemkab Gowa", "the Gowa regency government"),
        _external("kab-takalar", "Pemkab Takalar", "the Takalar regency government"),
        _external("kab-pangkep", "Pemkab Pangkep", "the Pangkajene dan Kepulauan regency government"),
        Assignee(
            id=TRIAGE_ID,
            name="triase operator War Room",
            name_en="the War Room operators' triage queue",
            kind="triage",
        ),
    ]
    return {a.id: a for a in entries}


ASSIGNEES: Mapping[str, Assignee] = MappingProxyType(_build())


def get_assignee(assignee_id: str) -> Assignee | None:
    """The assignee with this id, or None."""
    return ASSIGNEES.get(assignee_id)
