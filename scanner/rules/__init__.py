"""Rule model and loader. Rule data lives in the top-level rules/ folder."""
from scanner.rules.model import Rule, RuleError, RuleSet
from scanner.rules.loader import default_rules_dir, load_rules

__all__ = ["Rule", "RuleError", "RuleSet", "default_rules_dir", "load_rules"]
