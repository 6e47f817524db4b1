"""The stored shape of a report, where code still reads the Firestore document itself."""

from collections.abc import Mapping
from typing import Any

# Any: a report document as stored (Firestore shape, any value per field), read as SKPD tools and the
# figures read it, until `keluhan.domain.report.Report` is the currency between layers (issue 17).
ReportDoc = Mapping[str, Any]
