"""The SDK's PyTorch script mode on MNIST, cell by cell: ``upload_data`` of the data folder, a
``PyTorch`` estimator (``mnist.py``, one epoch, CPU) fitted with its log followed, deployed and
asked with the ``PyTorchPredictor``'s defaults (NumPy's ``.npy`` both ways), the endpoint
deleted.

Notebook: sagemaker-python-sdk/pytorch_mnist/pytorch_mnist.ipynb in aws/amazon-sagemaker-examples
(its last version there), with its ``mnist.py``. The MNIST files are synthetic, of the same
format (idx files, 28 x 28 bytes, labels 0 to 9; 1,000 training and 200 test images), written where
torchvision's download puts them (``data/MNIST/raw``). torchvision is not in the platform's
environment, so the script's two ``datasets.MNIST(...)`` loaders read the same raw files with
NumPy (``_mnist``), normalised as its ``transforms`` did; the rest of the script is verbatim.
Left out: the ``pip install torchvision`` cell, ``pygmentize`` and ``ls``.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.stack import STACK_START_S

pytestmark = pytest.mark.timeout(STACK_START_S + 420)

# Outside SageMaker ``get_execution_role()`` has no notebook instance to ask; a user names a
# role, as the SDK's documentation says. The platform takes any role ARN.
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"

MNIST_PY = r"""
import argparse
import json
import logging
import os
import sys

#import sagemaker_containers
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.utils.data
import torch.utils.data.distributed

logger = logging.getLogger(__name__)
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler(sys.stdout))


# Based on https://github.com/pytorch/examples/blob/master/mnist/main.py
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def _mnist(training_dir, train):
    # In place of torchvision's MNIST dataset (ToTensor, then Normalize((0.1307,), (0.3081,))):
    # the same raw files, read with NumPy.
    import numpy as np

    raw = os.path.join(training_dir, "MNIST", "raw")
    name = "train" if train else "t10k"
    with open(os.path.join(raw, name + "-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with open(os.path.join(raw, name + "-labels-idx1-ubyte"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    images = (images.astype(np.float32) / 255.0 - 0.1307) / 0.3081
    return torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


def _get_train_data_loader(batch_size, training_dir, is_distributed, **kwargs):
    logger.info("Get train data loader")
    dataset = _mnist(training_dir, train=True)
    train_sampler = (
        torch.utils.data.distributed.DistributedSampler(dataset) if is_distributed else None
    )
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train_sampler is None,
        sampler=train_sampler,
        **kwargs
    )


def _get_test_data_loader(test_batch_size, training_dir, **kwargs):
    logger.info("Get test data loader")
    return torch.utils.data.DataLoader(
        _mnist(training_dir, train=False),
        batch_size=test_batch_size,
        shuffle=True,
        **kwargs
    )


def _average_gradients(model):
    # Gradient averaging.
    size = float(dist.get_world_size())
    for param in model.parameters():
        dist.all_reduce(param.grad.data, op=dist.reduce_op.SUM)
        param.grad.data /= size


def train(args):
    is_distributed = len(args.hosts) > 1 and args.backend is not None
    logger.debug("Distributed training - {}".format(is_distributed))
    use_cuda = args.num_gpus > 0
    logger.debug("Number of gpus available - {}".format(args.num_gpus))
    kwargs = {"num_workers": 1, "pin_memory": True} if use_cuda else {}
    device = torch.device("cuda" if use_cuda else "cpu")

    if is_distributed:
        # Initialize the distributed environment.
        world_size = len(args.hosts)
        os.environ["WORLD_SIZE"] = str(world_size)
        host_rank = args.hosts.index(args.current_host)
        os.environ["RANK"] = str(host_rank)
        dist.init_process_group(backend=args.backend, rank=host_rank, world_size=world_size)
        logger.info(
            "Initialized the distributed environment: '{}' backend on {} nodes. ".format(
                args.backend, dist.get_world_size()
            )
            + "Current host rank is {}. Number of gpus: {}".format(dist.get_rank(), args.num_gpus)
        )

    # set the seed for generating random numbers
    torch.manual_seed(args.seed)
    if use_cuda:
        torch.cuda.manual_seed(args.seed)

    train_loader = _get_train_data_loader(args.batch_size, args.data_dir, is_distributed, **kwargs)
    test_loader = _get_test_data_loader(args.test_batch_size, args.data_dir, **kwargs)

    logger.debug(
        "Processes {}/{} ({:.0f}%) of train data".format(
            len(train_loader.sampler),
            len(train_loader.dataset),
            100.0 * len(train_loader.sampler) / len(train_loader.dataset),
        )
    )

    logger.debug(
        "Processes {}/{} ({:.0f}%) of test data".format(
            len(test_loader.sampler),
            len(test_loader.dataset),
            100.0 * len(test_loader.sampler) / len(test_loader.dataset),
        )
    )

    model = Net().to(device)
    if is_distributed and use_cuda:
        # multi-machine multi-gpu case
        model = torch.nn.parallel.DistributedDataParallel(model)
    else:
        # single-machine multi-gpu case or single-machine or multi-machine cpu case
        model = torch.nn.DataParallel(model)

    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader, 1):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            if is_distributed and not use_cuda:
                # average gradients manually for multi-machine cpu case only
                _average_gradients(model)
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                logger.info(
                    "Train Epoch: {} [{}/{} ({:.0f}%)] Loss: {:.6f}".format(
                        epoch,
                        batch_idx * len(data),
                        len(train_loader.sampler),
                        100.0 * batch_idx / len(train_loader),
                        loss.item(),
                    )
                )
        test(model, test_loader, device)
    save_model(model, args.model_dir)


def test(model, test_loader, device):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, size_average=False).item()  # sum up batch loss
            pred = output.max(1, keepdim=True)[1]  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    logger.info(
        "Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
            test_loss, correct, len(test_loader.dataset), 100.0 * correct / len(test_loader.dataset)
        )
    )


def model_fn(model_dir):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = torch.nn.DataParallel(Net())
    with open(os.path.join(model_dir, "model.pth"), "rb") as f:
        model.load_state_dict(torch.load(f))
    return model.to(device)


def save_model(model, model_dir):
    logger.info("Saving the model.")
    path = os.path.join(model_dir, "model.pth")
    # recommended way from http://pytorch.org/docs/master/notes/serialization.html
    torch.save(model.cpu().state_dict(), path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()

    # Data and model checkpoints directories
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        metavar="N",
        help="input batch size for training (default: 64)",
    )
    parser.add_argument(
        "--test-batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="input batch size for testing (default: 1000)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=10,
        metavar="N",
        help="number of epochs to train (default: 10)",
    )
    parser.add_argument(
        "--lr", type=float, default=0.01, metavar="LR", help="learning rate (default: 0.01)"
    )
    parser.add_argument(
        "--momentum", type=float, default=0.5, metavar="M", help="SGD momentum (default: 0.5)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    parser.add_argument(
        "--log-interval",
        type=int,
        default=100,
        metavar="N",
        help="how many batches to wait before logging training status",
    )
    parser.add_argument(
        "--backend",
        type=str,
        default=None,
        help="backend for distributed training (tcp, gloo on cpu and gloo, nccl on gpu)",
    )

    # Container environment
    parser.add_argument("--hosts", type=list, default=json.loads(os.environ["SM_HOSTS"]))
    parser.add_argument("--current-host", type=str, default=os.environ["SM_CURRENT_HOST"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--data-dir", type=str, default=os.environ["SM_CHANNEL_TRAINING"])
    parser.add_argument("--num-gpus", type=int, default=os.environ["SM_NUM_GPUS"])

    train(parser.parse_args())
"""


def idx_files(folder, name: str, count: int, *, seed: int) -> None:
    """``<name>-images-idx3-ubyte`` and ``<name>-labels-idx1-ubyte`` (and their ``.gz``, as
    torchvision leaves both): each digit a bright bar at its own place, on noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    images = rng.integers(0, 60, size=(count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        row = 2 + int(label) * 2
        images[index, row : row + 3, 4:24] = 250
    header = np.array([0x803, count, 28, 28], dtype=">u4").tobytes()
    payloads = {
        f"{name}-images-idx3-ubyte": header + images.tobytes(),
        f"{name}-labels-idx1-ubyte": np.array([0x801, count], dtype=">u4").tobytes()
        + labels.tobytes(),
    }
    for file, payload in payloads.items():
        (folder / file).write_bytes(payload)
        (folder / f"{file}.gz").write_bytes(gzip.compress(payload))


def test_pytorch_mnist_fits_deploys_and_predicts_with_numpy(
    user_env, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist.py").write_text(MNIST_PY)

    # [4] Session, region, default bucket, prefix, role.
    import sagemaker

    sagemaker_session = sagemaker.Session()
    region = sagemaker_session.boto_region_name

    bucket = sagemaker_session.default_bucket()
    prefix = "sagemaker/DEMO-pytorch-mnist"

    role = ROLE  # sagemaker.get_execution_role() in a SageMaker notebook
    assert region == "us-east-1"

    # [6] MNIST("data", download=True): the files torchvision leaves in data/MNIST/raw.
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    idx_files(raw, "train", 1000, seed=0)
    idx_files(raw, "t10k", 200, seed=1)

    # [8] Upload the data folder.
    inputs = sagemaker_session.upload_data(path="data", bucket=bucket, key_prefix=prefix)
    print("input spec (in this case, just an S3 path): {}".format(inputs))  # noqa: UP032
    assert inputs == f"s3://{bucket}/{prefix}"

    # [12] The estimator.
    from sagemaker.pytorch import PyTorch

    estimator = PyTorch(
        entry_point="mnist.py",
        role=role,
        py_version="py38",
        framework_version="1.11.0",
        instance_count=2,
        instance_type="ml.c5.2xlarge",
        hyperparameters={"epochs": 1, "backend": "gloo"},
    )

    # [14] Fit, following the job's log.
    estimator.fit({"training": inputs})
    printed = capsys.readouterr().out
    assert "Test set: Average loss:" in printed
    assert "Completed - Training job completed" in printed

    # [16] Deploy.
    predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m4.xlarge")

    # [19] Sixteen test images.
    import os
    import random

    data_dir = "data/MNIST/raw"
    with gzip.open(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28).astype(np.float32)

    mask = random.sample(range(len(images)), 16)  # randomly select some of the test images
    mask = np.array(mask, dtype=np.int32)
    data = images[mask]

    # [20] Predict: the PyTorchPredictor sends and reads application/x-npy by default.
    response = predictor.predict(np.expand_dims(data, axis=1))
    print("Raw prediction result:")
    print(response)
    print()

    labeled_predictions = list(zip(range(10), response[0], strict=True))
    print("Labeled predictions: ")
    print(labeled_predictions)
    print()

    labeled_predictions.sort(key=lambda label_and_prob: 1.0 - label_and_prob[1])
    print("Most likely answer: {}".format(labeled_predictions[0]))  # noqa: UP032

    assert isinstance(response, np.ndarray) and response.shape == (16, 10)
    # The network's log_softmax: each row's probabilities add up to one.
    np.testing.assert_allclose(np.exp(response).sum(axis=1), 1.0, rtol=1e-4)

    # [22] Delete the endpoint.
    sagemaker_session.delete_endpoint(endpoint_name=predictor.endpoint_name)
    import boto3

    client = boto3.client("sagemaker")
    with pytest.raises(client.exceptions.ClientError):
        client.describe_endpoint(EndpointName=predictor.endpoint_name)
