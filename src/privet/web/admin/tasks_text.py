"""Manual-task instructions in the console's language.

A task stores its instructions in English, written from one of Privet's own templates (`requests.runner
.INSTRUCTIONS`, the hand-over of a correction, `requests.manual.TAKE_OVER`), so the CLI, the API and the audit read
the same words. The console shows them in Chinese by matching the stored text back to its template; text that
matches none (a datastore's own description, written by the company) is shown as written.
"""

from __future__ import annotations

import re
from functools import cache

from privet.requests.execution.runner import INSTRUCTIONS
from privet.requests.manual.service import TAKE_OVER

HAND_OVER = (
    "The correction of request {ref} in {store} could not be written automatically: {error}. Reveal the "
    "requested values, make the correction by hand, then complete this task with the rows corrected per "
    "table."
)

ZH_CN = {
    INSTRUCTIONS["fetch"]: "在 {store} 中查找请求 {ref} 所涉个人的全部记录，并上传（CSV 或 JSON）。",
    INSTRUCTIONS[
        "erase"
    ]: "按数据地图的规定删除 {store} 中请求 {ref} 所涉个人的记录，然后确认各表的数量以及依法保留的内容。",
    INSTRUCTIONS["rectify"]: "更正 {store} 中请求 {ref} 所涉个人的记录（{categories}），然后确认各表的数量。",
    HAND_OVER: "请求 {ref} 在 {store} 中的更正无法自动写入：{error}。请查看所请求的值，手工完成更正，"
    "然后按表填写已更正的行数以完成此任务。",
    TAKE_OVER: "请求 {ref} 在 {store} 中的步骤 {action} 失败，已转为人工处理：请按数据地图的规定完成，"
    "然后上传找到的记录（查询）或填写各表的数量以完成此任务。",
}

# English shown in the console where the stored words name a key
EN = {
    TAKE_OVER: "Step {action} of request {ref} in {store} failed and was taken over by hand: do it as the data map "
    "says, then complete this task with the rows found (when finding the person's data) or the counts "
    "per table."
}


@cache
def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    out = []
    for i, part in enumerate(parts):
        out.append(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)")
    return re.compile("".join(out) + r"(?P<_about> \(.*\))?", re.DOTALL)


def _worded(values: dict[str, str], lang: str) -> dict[str, str]:
    """The keys a template was filled with, in words: data categories by their taxonomy names (the default
    taxonomy's; a company's own category keeps its key) and a step's action."""
    from privet.taxonomy.loader import default_taxonomy
    from privet.web.admin.failures import ACTIONS
    from privet.web.i18n import gettext

    out = dict(values)
    if values.get("categories"):
        names = [default_taxonomy().label("categories", k.strip(), lang) for k in values["categories"].split(",")]
        out["categories"] = ("、" if lang == "zh_CN" else ", ").join(names)
    if values.get("action") in ACTIONS:
        out["action"] = f"“{gettext(lang, ACTIONS[values['action']])}”"
    return out


def translated(text: str, lang: str) -> str:
    """`text` in `lang` (English or Chinese) with its keys in words when it is one of Privet's task templates (a
    datastore description after it is kept); else `text` as it is."""
    for template, zh in ZH_CN.items():
        found = _pattern(template).fullmatch(text)
        if found:
            values = _worded({k: v for k, v in found.groupdict().items() if k != "_about"}, lang)
            shown = zh if lang == "zh_CN" else EN.get(template, template)
            return shown.format(**values) + (found.group("_about") or "")
    return text
