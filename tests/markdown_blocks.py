"""The fenced code blocks of a Markdown file (for tests/test_docs.py and .ci/run; no dependencies)."""
import re

#: An opening fence: ```language, or a MyST directive with its argument (```{automodule} fasttsne.tl).
FENCE = re.compile(r"^```(\S*)(?:\s.*)?$")


def code_blocks(path):
    """[(language, line number of the first code line, code)] of the fenced blocks in ``path``."""
    blocks, language, start, lines = [], None, 0, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            match = FENCE.match(line.rstrip("\n"))
            if match and language is None:
                language, start, lines = match.group(1), number + 1, []
            elif line.rstrip() == "```" and language is not None:
                blocks.append((language, start, "".join(lines)))
                language = None
            elif language is not None:
                lines.append(line)
    assert language is None, f"{path}: unclosed code block starting on line {start - 1}"
    return blocks
