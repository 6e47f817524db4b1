"""Photo verification: a real image, fresh, taken at the reported place, not reused; and
the EXIF-free copies that are all anyone else ever sees."""

from keluhan.domain.photo.derivatives import PhotoDerivatives
from keluhan.domain.photo.exif import WITA
from keluhan.domain.photo.policy import PhotoPolicy
from keluhan.domain.photo.reasons import REASONS, Reason, ReasonCode, Verdict
from keluhan.domain.photo.verify import PhotoVerification, verify_photo

__all__ = [
    "REASONS",
    "WITA",
    "PhotoDerivatives",
    "PhotoPolicy",
    "PhotoVerification",
    "Reason",
    "ReasonCode",
    "Verdict",
    "verify_photo",
]
