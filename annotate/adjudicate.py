"""Gold annotations from several annotators: match spans, vote, break ties with a named adjudicator.

For each task with two or more annotators, spans are clustered across annotators with the overlap rule
of :mod:`annotate.matching`. Each decision — does the span exist, its offsets, each attribute, each
relation — is a vote among the annotators concerned: a strict majority wins; a tie goes to the
adjudicator's own annotation when the adjudicator annotated the task; otherwise the item is unresolved
and the task gets no gold (the export then falls back to its earliest annotation). Every vote is kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from annotate.convert import task_key
from annotate.matching import Span, match
from schemas import vocabulary as V


@dataclass
class Outcome:
    gold: list[dict[str, Any]] = field(default_factory=list)  # annotation records
    votes: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)


class _Task:
    def __init__(self, key: str, members: dict[str, dict[str, Any]]) -> None:
        self.key = key
        self.members = members  # annotator -> {"spans": {id: span}, "relations": set, "record": row}
        self.clusters: list[dict[str, dict[str, Any]]] = []  # annotator -> span
        self.votes: list[dict[str, Any]] = []
        self.unresolved: list[dict[str, Any]] = []

    def decide(
        self, item: str, ref: str, votes: dict[str, Any], voters: list[str], adjudicator: str | None
    ) -> Any:
        """Strict majority of ``voters``; a tie goes to the adjudicator if it voted; else unresolved."""
        tally = Counter(votes[v] for v in voters)
        ranked = tally.most_common()
        row = {"task_key": self.key, "ref": ref, "item": item, "votes": {v: votes[v] for v in voters}}
        if ranked and ranked[0][1] * 2 > len(voters):
            rule = "unanimous" if ranked[0][1] == len(voters) else "majority"
            self.votes.append({**row, "value": ranked[0][0], "decided_by": rule, "rule": rule})
            return ranked[0][0]
        if adjudicator is not None and adjudicator in voters:
            value = votes[adjudicator]
            self.votes.append({**row, "value": value, "decided_by": adjudicator, "rule": "adjudicator"})
            return value
        self.unresolved.append({**row, "reason": "tie and no adjudicator annotation for this task"})
        return None


def _members(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    annotations = tables["annotations"]
    annotations = annotations[annotations["annotator"] != V.GOLD_ANNOTATOR]
    spans = {k: g for k, g in tables["spans"].groupby("annotation_id")}
    relations = {k: g for k, g in tables["relations"].groupby("annotation_id")}
    tasks: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in annotations.to_dict("records"):
        own_spans = spans.get(row["annotation_id"], tables["spans"].iloc[0:0])
        own_relations = relations.get(row["annotation_id"], tables["relations"].iloc[0:0])
        tasks.setdefault((str(row["article_id"]), str(row["target_id"])), {})[str(row["annotator"])] = {
            "record": row,
            "spans": {str(s["span_id"]): s for s in own_spans.to_dict("records")},
            "relations": {
                (str(r["from_id"]), str(r["to_id"]), str(r["type"])) for r in own_relations.to_dict("records")
            },
        }
    return {k: v for k, v in tasks.items() if len(v) >= 2}


def _span(s: dict[str, Any]) -> Span:
    return Span(str(s["span_id"]), str(s["label"]), int(s["start"]), int(s["end"]))


def adjudicate(
    tables: dict[str, pd.DataFrame], *, adjudicator: str | None = None, guideline_version: str | None = None
) -> Outcome:
    """Gold annotations for the tasks whose annotators can be reconciled. ``guideline_version``: what the
    gold annotations record (the project's; default: the newest version among each task's annotations)."""
    outcome = Outcome()
    for (article_id, target_id), members in sorted(_members(tables).items()):
        task = _Task(task_key(article_id, target_id), members)
        _cluster(task)
        gold_spans, kept = _decide_spans(task, adjudicator)
        gold_relations = _decide_relations(task, kept, adjudicator)
        outcome.votes += task.votes
        if task.unresolved:
            outcome.unresolved += task.unresolved
            continue
        updated = max(str(m["record"]["updated_at"]) for m in members.values())
        created = min(str(m["record"]["created_at"]) for m in members.values())
        version = guideline_version or max(
            (str(m["record"]["guideline_version"]) for m in members.values()),
            key=lambda v: tuple(int(part) for part in v.split(".")),
        )
        outcome.gold.append(
            {
                "annotation_id": f"{V.GOLD_ANNOTATOR}:{target_id}",
                "article_id": article_id,
                "target_id": target_id,
                "annotator": V.GOLD_ANNOTATOR,
                "created_at": created,
                "updated_at": updated,
                "guideline_version": version,
                "config_hash": None,
                "ls_task_id": None,
                "ls_annotation_id": None,
                "spans": gold_spans,
                "relations": gold_relations,
            }
        )
    return outcome


def _cluster(task: _Task) -> None:
    for annotator in sorted(task.members):
        spans = list(task.members[annotator]["spans"].values())
        representatives = [_span(next(iter(c.values()))) for c in task.clusters]
        pairs = match(representatives, [_span(s) for s in spans], "overlap")
        by_rep = {rep.span_id: own.span_id for rep, own in pairs}
        matched = set(by_rep.values())
        for cluster in task.clusters:
            rep_id = str(next(iter(cluster.values()))["span_id"])
            if rep_id in by_rep:
                cluster[annotator] = task.members[annotator]["spans"][by_rep[rep_id]]
        for span in spans:
            if str(span["span_id"]) not in matched:
                task.clusters.append({annotator: span})


def _describe(cluster: dict[str, dict[str, Any]]) -> str:
    first = next(iter(cluster.values()))
    return f"{first['label']} «{first['text']}»"


def _decide_spans(
    task: _Task, adjudicator: str | None
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    everyone = sorted(task.members)
    kept: dict[int, dict[str, Any]] = {}
    for index, cluster in enumerate(task.clusters):
        ref = _describe(cluster)
        present = task.decide("presence", ref, {a: a in cluster for a in everyone}, everyone, adjudicator)
        if not present:
            continue
        voters = sorted(cluster)
        offsets = task.decide(
            "offsets",
            ref,
            {a: (int(cluster[a]["start"]), int(cluster[a]["end"])) for a in voters},
            voters,
            adjudicator,
        )
        label = V.SpanLabel(next(iter(cluster.values()))["label"])
        attributes = {
            name: task.decide(name, ref, {a: cluster[a][name] for a in voters}, voters, adjudicator)
            for name in V.SPAN_ATTRIBUTES[label]
        }
        if offsets is None or None in attributes.values():
            continue
        source = next(s for s in cluster.values() if (int(s["start"]), int(s["end"])) == offsets)
        kept[index] = {
            "label": label.value,
            "start": offsets[0],
            "end": offsets[1],
            "text": source["text"],
            **attributes,
        }
    ordered = sorted(kept.items(), key=lambda kv: (kv[1]["start"], kv[1]["end"], kv[1]["label"]))
    spans = []
    for number, (index, decided) in enumerate(ordered, start=1):
        kept[index] = {"id": f"g{number}", **decided}
        spans.append(kept[index])
    return spans, kept


def _decide_relations(
    task: _Task, kept: dict[int, dict[str, Any]], adjudicator: str | None
) -> list[dict[str, Any]]:
    relations = []
    for head_index, head in kept.items():
        for tail_index, tail in kept.items():
            for relation, (head_label, tail_label) in V.RELATION_ENDPOINTS.items():
                if (head["label"], tail["label"]) != (head_label.value, tail_label.value):
                    continue
                head_cluster, tail_cluster = task.clusters[head_index], task.clusters[tail_index]
                voters = sorted(set(head_cluster) & set(tail_cluster))
                if not voters:
                    continue
                votes = {
                    a: (str(head_cluster[a]["span_id"]), str(tail_cluster[a]["span_id"]), relation.value)
                    in task.members[a]["relations"]
                    for a in voters
                }
                if not any(votes.values()):
                    continue
                ref = f"{relation.value}: {_describe(head_cluster)} → {_describe(tail_cluster)}"
                if task.decide("relation", ref, votes, voters, adjudicator):
                    relations.append({"type": relation.value, "from_id": head["id"], "to_id": tail["id"]})
    return sorted(relations, key=lambda r: (r["from_id"], r["to_id"], r["type"]))
