"""Print the command lines of the ```bash blocks of a Markdown file, one per line (for .ci/run)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from markdown_blocks import code_blocks  # noqa: E402  (the parser the docs' tests use)

for language, _, code in code_blocks(sys.argv[1]):
    if language == "bash":
        for line in code.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                print(line)
