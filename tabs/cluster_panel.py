"""The Models tab's Ray section (only with ``--ray``): where GPU work runs, and each replica with
its device, what its cache holds and its queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from studio.errors import StudioError
from tabs import roles
from tabs.common import TabContext, friendly

if TYPE_CHECKING:
    from studio.cluster.front import RayCluster

COLUMNS = ["replica", "node", "device", "loaded", "running", "served", "heard"]
WHERE = ("cluster", "here")


def replica_count(live: int, started: int) -> str:
    """The replicas answering now: "2", or "1/2" while fewer than were started answer (a node
    lost, a replacement starting)."""
    return str(live) if live >= started else f"{live}/{started}"


def status_line(cluster: RayCluster, say: Callable[[str], str], live: int) -> str:
    """``live``: the replicas listed now (the number set at start may no longer hold)."""
    if cluster.problem:
        return say("models.cluster_problem").format(problem=cluster.problem)
    key = "models.cluster_here" if cluster.run_here else "models.cluster_on"
    return say(key).format(address=cluster.address, replicas=replica_count(live, cluster.replica_count))


def replica_rows(reports: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["replica"], f"{r['node']} (pid {r['pid']})", r["device"],
             ", ".join(f"{m['model']} ({m['size_mb']} MB, {m['hits']} hits)" for m in r["models"]) or "—",
             r["running"], r["served"], r["heard_seconds_ago"]] for r in reports]


def build(ctx: TabContext) -> None:
    cluster = ctx.studio.cluster
    if cluster is None:
        return
    t = ctx.t

    def cluster_status() -> dict:
        """The Ray cluster: its address, whether GPU work runs there, how many replicas were
        started, and each live replica's last report (device, loaded models, calls running and
        served, seconds since it reported)."""
        return {"address": cluster.address, "in_use": cluster.in_use, "problem": cluster.problem,
                "started_replicas": cluster.replica_count, "replicas": cluster.replicas()}

    def view(request: gr.Request = None):
        say = t.for_request(request)
        try:
            reports = cluster.replicas()
            line = status_line(cluster, say, len(reports))
        except StudioError as exc:  # a cluster gone quiet: said on the page, never an error box on load
            line, reports = f"{status_line(cluster, say, 0)}\n\n⚠️ {exc}", []
        headers = [say(f"models.rcol.{column}") for column in COLUMNS]
        return line, {"headers": headers, "data": replica_rows(reports)}

    def on_load(_browser_id: str, request: gr.Request = None):
        """A student sees where GPU work runs, greyed out: only the teacher switches it."""
        teacher = roles.is_teacher(ctx, request)
        say = t.for_request(request)
        hint = "" if teacher else say("roles.teacher_only").format(what=say("roles.where_gpu_runs"))
        return (*view(request), gr.update(interactive=teacher and cluster.handle is not None, info=hint or None))

    def choose(where: str, request: gr.Request = None):
        roles.require_teacher(ctx, request, "roles.where_gpu_runs")
        if cluster.handle is not None:
            cluster.use_here(where == "here")
        return view(request)

    with gr.Accordion(t("models.cluster"), open=True, elem_id="models-cluster"):
        line = gr.Markdown(elem_id="models-cluster-status")
        where = gr.Radio([(t(f"models.cluster_choice.{w}"), w) for w in WHERE],
                         value="here" if cluster.run_here or cluster.handle is None else "cluster",
                         label=t("models.cluster_where"), interactive=cluster.handle is not None,
                         elem_id="models-cluster-where")
        table = gr.Dataframe(headers=[t.plain(f"models.rcol.{column}") for column in COLUMNS],
                             interactive=False, elem_id="models-replicas")
        refresh = gr.Button(t("models.cluster_refresh"), size="sm")
    gr.api(friendly(cluster_status), api_name="cluster_status")
    refresh.click(friendly(view), None, [line, table], api_visibility="private")
    where.change(friendly(choose), where, [line, table], api_visibility="private")
    ctx.after_load.append((friendly(on_load), [line, table, where]))
