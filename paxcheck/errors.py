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
        caret = " " * (span.col - 1) + "^" * max(1, min(width, len(line) - span.col + 2))
        return f"  {span.line:>4} | {line}\n       | {caret}"

    def __str__(self) -> str:
        return self.render()
