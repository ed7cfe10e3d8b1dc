"""Imported once by the serve process's fork server (see ``flows.serve``) beside the flows
themselves: Django with its apps loaded (importing ``flows`` sets it up; the app registry only,
no database connection is opened), the services the flows report through, and the libraries they
import only when they run.
"""

import importlib

for module in (
    "console.endpoints.services.deployment",
    "console.labeling.services",
    "console.training.services",
    "console.transform.services",
    "console.tuning.services",
    "algorithms.tuning",  # torch and GPyTorch
):
    importlib.import_module(module)
