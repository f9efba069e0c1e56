"""The bench's figures as a table (metric, value, target, pass/fail) and as JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Metric:
    name: str
    value: float
    unit: str
    # e.g. ">= 0.8"; None for a figure reported without a target.
    target: str | None = None
    passed: bool | None = None

    def row(self) -> tuple[str, str, str, str]:
        verdict = "-" if self.passed is None else ("pass" if self.passed else "FAIL")
        return (self.name, f"{_number(self.value)} {self.unit}".strip(), self.target or "-", verdict)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _at_least(limit: float) -> tuple[str, Callable[[float], bool]]:
    return f">= {limit:g}", lambda value: value >= limit


def _below(limit: float, unit: str) -> tuple[str, Callable[[float], bool]]:
    return f"< {limit:g} {unit}", lambda value: value < limit


def _at_most(limit: float) -> tuple[str, Callable[[float], bool]]:
    return f"<= {limit:g}", lambda value: value <= limit


def metrics(phases: dict[str, Any]) -> list[Metric]:
    """The table rows, from the phases' results (any phase may be missing)."""
    rows: list[Metric] = []

    def add(name: str, value: float, unit: str, target: tuple[str, Callable[[float], bool]] | None = None) -> None:
        rows.append(
            Metric(
                name=name,
                value=value,
                unit=unit,
                target=target[0] if target else None,
                passed=target[1](value) if target else None,
            )
        )

    baseline, touchpoint = phases.get("baseline"), phases.get("touchpoint")
    if baseline:
        add("baseline touches/s (timer + no-op activity)", baseline["touches_per_s"], "/s")
    if touchpoint:
        add("Touchpoint touches/s (follow-up, rendered, outbox)", touchpoint["touches_per_s"], "/s")
    if baseline and touchpoint:
        add("touch throughput, Touchpoint / baseline", touchpoint["touches_per_s"] / baseline["touches_per_s"], "", _at_least(0.8))
        add("worker CPU per touch, baseline", baseline["worker_cpu_ms_per_touch"], "ms")
        add("worker CPU per touch, Touchpoint", touchpoint["worker_cpu_ms_per_touch"], "ms")
        add("server CPU per touch, baseline", baseline["server_cpu_ms_per_touch"], "ms")
        add("server CPU per touch, Touchpoint", touchpoint["server_cpu_ms_per_touch"], "ms")
    if codec := phases.get("codec"):
        add("worker CPU per touch, codec off", codec["plaintext"]["worker_cpu_ms_per_touch"], "ms")
        add("worker CPU per touch, codec on", codec["encrypted"]["worker_cpu_ms_per_touch"], "ms")
        add("worker CPU per touch, codec on / off", codec["worker_cpu_ratio"], "", _at_most(1.10))
    if enroll := phases.get("enrollment"):
        add("enroll: bare start_workflow", enroll["bare_per_s"], "leads/s")
        add("enroll: TouchpointClient.enroll_many", enroll["enroll_many_per_s"], "leads/s")
        add("enroll_many / bare start", enroll["enroll_many_ratio"], "", _at_least(0.9))
        add("enroll: CSV import (read_leads + enroll_many)", enroll["csv_import_per_s"], "leads/s")
        add("CSV import / bare start", enroll["csv_import_ratio"], "", _at_least(0.9))
    if cached := phases.get("cached"):
        latency = cached["reply_latency"]
        add("reply -> awaiting_rep p50", latency["p50_ms"], "ms")
        add("reply -> awaiting_rep p95", latency["p95_ms"], "ms")
        add("reply -> awaiting_rep p99", latency["p99_ms"], "ms", _below(50, "ms"))
        add(f"worker memory per cached lead ({cached['memory']['cached_leads']:,} leads)", cached["memory"]["kib_per_lead"], "KiB")
    if history := phases.get("history"):
        add("history events per lead per simulated year", history["events_per_lead_year"], "events", _at_most(150))
    return rows


def table(rows: list[Metric]) -> str:
    header = ("metric", "value", "target", "result")
    cells = [header, *(row.row() for row in rows)]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(header))]
    lines = ["  ".join(cell[i].ljust(widths[i]) for i in range(len(header))).rstrip() for cell in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    checked = [row for row in rows if row.passed is not None]
    lines.append(f"{sum(1 for row in checked if row.passed)} of {len(checked)} targets met")
    return "\n".join(lines)


def notes(phases: dict[str, Any]) -> list[str]:
    """What a reader needs to weigh the figures."""
    lines = []
    baseline, touchpoint = phases.get("baseline"), phases.get("touchpoint")
    if baseline and touchpoint:
        lines.append(
            f"throughput: {touchpoint['leads']} leads a run, {baseline.get('runs', 1)} runs of each kind; "
            f"timers started per touch: baseline {baseline['timers_per_touch']:.2f}, Touchpoint "
            f"{touchpoint['timers_per_touch']:.2f} (below 1: touches already due when the worker got to them)"
        )
    if (history := phases.get("history")) and history.get("late_touches"):
        lines.append(
            f"history: {history['late_touches']} touches went out late, without their timer: the worker fell "
            "behind the clock, so the events figure is too low; run on a quieter machine"
        )
    if cached := phases.get("cached"):
        lines.append(
            f"replies: {cached['reply_latency']['replies']} leads, {cached['reply_latency']['rate_per_s']:g} replies/s "
            f"(open loop) while the worker holds {cached['memory']['cached_leads'] + cached['memory']['warmup_leads']:,} leads"
        )
    return lines


def as_json(rows: list[Metric]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
