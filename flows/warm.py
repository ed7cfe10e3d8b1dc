"""What a flow run's process needs before it starts, imported once by the serve process's fork
server (see ``flows.serve``): Django with its apps loaded, the flows, the services they report
through and the libraries they import when they run.
"""

import importlib

from flows.django_setup import setup

setup()  # the app registry only: no database connection is opened

for module in (
    "flows.endpoints",
    "flows.system",
    "flows.training",
    "flows.transform",
    "flows.tuning",
    "console.endpoints.services",
    "console.training.services",
    "console.transform.services",
    "console.tuning.services",
    "algorithms.tuning",  # torch and GPyTorch
):
    importlib.import_module(module)
