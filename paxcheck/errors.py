"""User-facing errors: every bad input becomes one of these, never a traceback."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Span:
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<builtin>", 0, 0, 0, 0)

# characters of the offending line shown on each side of the caret
EXCERPT_CONTEXT = 60


class PaxError(Exception):
    """An error in user input (spec, model, trace or command line): exit code 2."""

    def __init__(self, message: str, span: Span | None = None,
                 expected: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.expected = expected
        self.source = source

    def render(self) -> str:
        where = f"{self.span}: " if self.span and self.span.line > 0 else ""
        out = [f"{where}error: {self.message}"]
        excerpt = self._excerpt()
        if excerpt:
            out.append(excerpt)
        if self.expected:
            out.append(f"  expected: {self.expected}")
        return "\n".join(out)

    def _excerpt(self) -> str:
        span = self.span
        if span is None or span.line <= 0:
            return ""
        text = self.source
        if text is None:
            try:
                text = Path(span.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return ""
        lines = text.splitlines()
        if span.line > len(lines):
            return ""
        line = lines[span.line - 1].expandtabs(1)
        width = 1
        if span.end_line == span.line and span.end_col > span.col:
            width = span.end_col - span.col
        start = span.col - 1
        width = max(1, min(width, len(line) - start + 1))
        # a long line is cut to a window around the caret, marked with ...
        lo = max(0, start - EXCERPT_CONTEXT)
        hi = min(len(line), start + min(width, EXCERPT_CONTEXT) + EXCERPT_CONTEXT)
        head = "..." if lo > 0 else ""
        tail = "..." if hi < len(line) else ""
        shown = head + line[lo:hi] + tail
        caret = " " * (len(head) + start - lo) + "^" * min(width, hi - start + 1)
        return f"  {span.line:>4} | {shown}\n       | {caret}"

    def __str__(self) -> str:
        return self.render()


# an input file bigger than this is refused unread (specs and models are small)
MAX_INPUT_BYTES = 64 << 20


def read_input(path: str | Path, what: str) -> str:
    """The text of an input file (`what`: spec, model, trace); every way
    reading it can fail is a PaxError that names the file."""
    p = Path(path)
    shown = str(p) if len(str(p)) <= 200 else str(p)[:200] + "..."
    try:
        if not p.exists():
            raise PaxError(f"{what} file not found: {shown}")
        if not p.is_file():
            raise PaxError(f"{what} file {shown} is not a regular file",
                           expected=f"the path of a {what} file")
        if p.stat().st_size > MAX_INPUT_BYTES:
            raise PaxError(f"{what} file {shown} is too big ({p.stat().st_size:,} bytes)",
                           expected=f"at most {MAX_INPUT_BYTES:,} bytes")
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PaxError(f"cannot read {what} file {shown}: not UTF-8 text (byte {exc.start})",
                       expected=f"a {what} file in UTF-8") from None
    except (OSError, ValueError) as exc:   # a name too long, a NUL byte, no permission...
        detail = getattr(exc, "strerror", None) or str(exc)
        raise PaxError(f"cannot read {what} file {shown}: {detail}",
                       expected=f"the path of a readable {what} file") from None
