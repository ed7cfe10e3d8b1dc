"""Imported once by the serve process's fork server (see ``flows.serve``) beside the flows
themselves: Django with its apps loaded, the services the flows report through, and the libraries
they import only when they run.
"""

import importlib

from flows.django_setup import setup

setup()  # the app registry only: no database connection is opened

for module in (
    "console.endpoints.services.deployment",
    "console.training.services",
    "console.transform.services",
    "console.tuning.services",
    "algorithms.tuning",  # torch and GPyTorch
):
    importlib.import_module(module)
