"""The diagrams page: each workflow's state diagram, generated from its machine."""

from flask import render_template
from markupsafe import Markup

from web.help import bp
from workflows.action_plan import ACTION_PLAN
from workflows.analysis.machine import ANALYSIS
from workflows.cases.machine import CASE
from workflows.diagram import svg, transitions
from workflows.dialog import DIALOG
from workflows.joint.machine import JOINT_DIALOG
from workflows.reviews.machine import REVIEW
from workflows.sanction import SANCTION

WORKFLOWS = [
    ("dialog", DIALOG, "§7.1.1"),
    ("gemensam-dialog", JOINT_DIALOG, "§7.1.2"),
    ("atgardsplan", ACTION_PLAN, "§7.1.3"),
    ("sanktion", SANCTION, "§7.1.3"),
    ("fordjupning", REVIEW, "§7.1.3"),
    ("arende", CASE, "§2.6, §2.7.5–2.7.6, §2.13.1, §3.1.1, §3.3, §3.8, §3.9, §3.20, §4.9"),
    ("arlig-analys", ANALYSIS, "§7.1.4"),
]


@bp.route("/flodesscheman")
def diagrams():
    items = [
        {
            "key": key,
            "name": wf.name,
            "section": section,
            # The SVG is built from our own constant labels, escaped in diagram.svg().
            "svg": Markup(svg(wf)),  # noqa: S704
            "rows": transitions(wf),
            "mermaid": wf.diagram(),
        }
        for key, wf, section in WORKFLOWS
    ]
    return render_template("help/diagrams.html", workflows=items)
