"""The nightly retrain's RecordLive step (a processing job): write the objective of the model just
deployed, and what it came from, to ``objective.json`` in the step's output, where the next
execution's BeatsLive condition reads the live model's objective."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--objective", type=float, required=True)
parser.add_argument("--model-package", required=True)
parser.add_argument("--endpoint-config", required=True)
args = parser.parse_args()

os.makedirs("/opt/ml/processing/live", exist_ok=True)
with open("/opt/ml/processing/live/objective.json", "w") as out:
    json.dump(
        {
            "objective": args.objective,
            "model_package_arn": args.model_package,
            "endpoint_config_name": args.endpoint_config,
        },
        out,
    )
print(f"live objective {args.objective} ({args.model_package})")
