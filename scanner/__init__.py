"""secret-sprawl: find static secrets wherever they sprawl, and say whose they are and how bad each is."""
from __future__ import annotations

__version__ = "0.1.0"


def scan_text(text: str, path: str | None = None, min_confidence: str = "medium"):
    """Scan a string in-process (for guardrails that check a prompt before it leaves for an LLM).

    Returns a list of scanner.model.Finding. Rules load and compile once per process.
    """
    from scanner.scan import ScanOptions, scan_bytes

    result = scan_bytes(text.encode("utf-8", "surrogatepass"), path or "<text>",
                        ScanOptions(min_confidence=min_confidence), source="text")
    return result.findings


__all__ = ["__version__", "scan_text"]
