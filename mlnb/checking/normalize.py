"""What always changes between two runs of the same notebook, replaced by a fixed token.

No user regexes: every rule here names one thing that differs from run to run however
deterministic the notebook is — memory addresses, timestamps, temporary paths,
progress bars, timing lines, execution counts in tracebacks and terminal colours.
:func:`normalize_text` applies them all; two outputs that are equal after it are the
same output.
"""

from __future__ import annotations

import re
import tempfile

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,16}\b")
ISO_TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
CLOCK = re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# /tmp/tmpab12cd, /var/folders/xy/..., C:\Users\me\AppData\Local\Temp\...
TEMP_PATH = re.compile(
    r"(?:/(?:private/)?(?:tmp|var/tmp|var/folders)/[^\s'\"<>:]*)"
    r"|(?:[A-Za-z]:\\[^\s'\"<>]*\\Temp\\[^\s'\"<>]*)"
)
# tqdm / keras style bars:  45%|████▌     | 45/100 [00:01<00:02, 30.1it/s]   or  12/50 [=====>....]
PROGRESS = re.compile(
    r"(?:\d{1,3}%\|.*\|)|(?:\d+/\d+ \[[=>.\s]+\])|(?:\[[#=>.\s-]{8,}\]\s*\d{1,3}%)|(?:\d+(?:\.\d+)?\s?(?:it|s)/s\b)"
)
TIMING_LINE = re.compile(
    r"^\s*(?:CPU times:|Wall time:|Elapsed|elapsed|Time taken|took\b).*$"
    r"|^.*\bper loop \(mean ± std\. dev\..*$",
    re.MULTILINE,
)
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds|min|minutes)\b")
IN_COUNT = re.compile(r"\b(In|Out|Cell In)\s?\[\d*\]")
KERNEL_FILE = re.compile(r"ipykernel_\d+/\d+\.py")

TOKEN_ADDRESS = "0x…"
TOKEN_TIME = "<time>"
TOKEN_TEMP = "<tmp>"
TOKEN_DURATION = "<duration>"


def strip_carriage_returns(text: str) -> str:
    """What a terminal shows: each line only after its last ``\\r`` (progress bars redraw)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def normalize_text(text: str) -> str:
    """``text`` with everything that always changes between runs replaced by a fixed token."""
    text = ANSI.sub("", text)
    text = strip_carriage_returns(text)
    text = "\n".join(line for line in text.split("\n") if not PROGRESS.search(line))
    text = TIMING_LINE.sub(TOKEN_DURATION, text)
    text = KERNEL_FILE.sub("<cell>", text)
    gettemp = tempfile.gettempdir()
    if gettemp and len(gettemp) > 4:
        text = text.replace(gettemp, TOKEN_TEMP)
    text = TEMP_PATH.sub(TOKEN_TEMP, text)
    text = ADDRESS.sub(TOKEN_ADDRESS, text)
    text = ISO_TIMESTAMP.sub(TOKEN_TIME, text)
    text = CLOCK.sub(TOKEN_TIME, text)
    text = DATE.sub(TOKEN_TIME, text)
    text = DURATION.sub(TOKEN_DURATION, text)
    text = IN_COUNT.sub(lambda m: f"{m.group(1)}[n]", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))
