"""The stored shape of a report, where code still reads the Firestore document itself."""

from collections.abc import Mapping
from typing import Any

# Any: a report document as stored (Firestore shape, any value per field), as `Report.to_doc` gives it,
# read where code builds what others read of it: the views, Open311, forwarding payloads, figures.
ReportDoc = Mapping[str, Any]
