"""A pipeline's step graph laid out for the console: steps in columns by depth (a step sits one
column right of the deepest step it waits for), edges from each step to those that wait on it."""

from __future__ import annotations

from dataclasses import dataclass

from console.pipelines.definition import Definition

BOX_WIDTH, BOX_HEIGHT = 170, 46
COLUMN_GAP, ROW_GAP = 60, 22


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    status: str
    x: int
    y: int
    branch: str  # "if", "else" or ""


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    box_width: int = BOX_WIDTH
    box_height: int = BOX_HEIGHT


def step_graph(definition: Definition, statuses: dict[str, str]) -> Graph:
    """``statuses``: each step's status in the execution shown ("" for steps that did not run)."""
    depth: dict[str, int] = {}

    def depth_of(name: str) -> int:
        if name not in depth:
            ups = definition.upstream[name]
            depth[name] = 1 + max((depth_of(up) for up in ups), default=-1)
        return depth[name]

    columns: dict[int, list[str]] = {}
    for name in definition.steps:
        columns.setdefault(depth_of(name), []).append(name)
    place: dict[str, tuple[int, int]] = {}
    nodes = []
    for column, names in sorted(columns.items()):
        for row, name in enumerate(names):
            x = 10 + column * (BOX_WIDTH + COLUMN_GAP)
            y = 10 + row * (BOX_HEIGHT + ROW_GAP)
            place[name] = (x, y)
            step = definition.steps[name]
            branch = "" if step.branch is None else ("if" if step.branch[1] else "else")
            nodes.append(Node(name, step.type, statuses.get(name, ""), x, y, branch))
    edges = [
        Edge(
            place[up][0] + BOX_WIDTH,
            place[up][1] + BOX_HEIGHT // 2,
            place[name][0],
            place[name][1] + BOX_HEIGHT // 2,
        )
        for name, ups in definition.upstream.items()
        for up in sorted(ups)
    ]
    width = 20 + len(columns) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    tallest = max(len(names) for names in columns.values())
    height = 20 + tallest * (BOX_HEIGHT + ROW_GAP) - ROW_GAP
    return Graph(nodes, edges, width, height)
