"""Registry: regions, enterprises, stations, communities, buildings, households, sensors.

Typed models (``models``), import from CSV/Excel (``importer``), scoped reads and
drill-down (``repository``), masking of personal data and the demo city (``demo``).
"""

from nuanliu.registry.demo import DemoRegistry, build_demo_registry
from nuanliu.registry.importer import ImportReport, import_registry
from nuanliu.registry.kinds import KINDS, Kind
from nuanliu.registry.masking import mask_name, mask_phone
from nuanliu.registry.models import (
    Building,
    Community,
    Enterprise,
    Household,
    Region,
    RegistryModel,
    Sensor,
    Station,
)
from nuanliu.registry.repository import (
    Node,
    UpsertCounts,
    children,
    count_records,
    get_record,
    list_records,
    upsert,
)

__all__ = [
    "KINDS",
    "Building",
    "Community",
    "DemoRegistry",
    "Enterprise",
    "Household",
    "ImportReport",
    "Kind",
    "Node",
    "Region",
    "RegistryModel",
    "Sensor",
    "Station",
    "UpsertCounts",
    "build_demo_registry",
    "children",
    "count_records",
    "get_record",
    "import_registry",
    "list_records",
    "mask_name",
    "mask_phone",
    "upsert",
]
