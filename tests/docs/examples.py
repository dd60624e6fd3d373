"""The examples of README.md and docs/*.md: every shell and Python code block, where it is,
and, for one that the tests cannot run, the reason the document gives.

A block declares its language (```sh, ```python, ```text ...). Shell and Python blocks are
examples; an indented or unlabelled block counts as a shell example, so nothing that looks
like a command escapes. The document says why an example is not run with a comment right
above it: ``<!-- not run by the tests: REASON -->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
SHELL = {"sh", "shell", "bash", "console", ""}
PYTHON = {"python", "py"}
NOT_RUN = re.compile(r"<!--\s*not run by the tests(?: as a block)?:\s*(.*?)\s*-->", re.S)


@dataclass(frozen=True)
class Example:
    path: str  # relative to the project root
    line: int  # 1-based, the block's first line of code
    language: str  # "sh" or "python"
    code: str
    not_run: str | None  # the document's reason, when the tests do not run it

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples(path: Path) -> list[Example]:
    """The shell and Python blocks of one Markdown file, in order."""
    tokens = MarkdownIt("commonmark").parse(path.read_text())
    found = []
    for i, token in enumerate(tokens):
        if token.type not in ("fence", "code_block"):
            continue
        language = token.info.strip().split(" ")[0].lower() if token.type == "fence" else ""
        if language not in SHELL | PYTHON:
            continue  # text, json, yaml: shown, not run
        before = tokens[i - 1] if i else None
        reason = None
        if before is not None and before.type == "html_block":
            m = NOT_RUN.search(before.content)
            reason = " ".join(m.group(1).split()) if m else None
        assert token.map is not None
        found.append(
            Example(
                path=str(path.relative_to(ROOT)),
                line=token.map[0] + (2 if token.type == "fence" else 1),
                language="python" if language in PYTHON else "sh",
                code=token.content,
                not_run=reason,
            )
        )
    return found


def all_examples() -> list[Example]:
    return [e for doc in documents() for e in examples(doc)]
