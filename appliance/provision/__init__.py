"""First-boot (and every-boot) provisioning from the boot partition: ``doorward provision``."""

from appliance.provision.request import ProvisionError, read_request
from appliance.provision.run import Outcome, provision
from appliance.provision.status import ProvisionStatus, read_status
from appliance.provision.system import Paths, hostname_for

__all__ = [
    "Outcome",
    "Paths",
    "ProvisionError",
    "ProvisionStatus",
    "hostname_for",
    "provision",
    "read_request",
    "read_status",
]
