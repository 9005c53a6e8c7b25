"""Relaydesk's router: rules.yaml -> validated RuleSet -> decisions and assignments. Pure.

Nothing here performs I/O (except ``load_rules_file`` reading one file), reads the clock or the
environment: callers pass ``now`` in. See docs/rules.md for the rules format.
"""

from router.assign import (
    AgentState,
    Assignment,
    AssignmentPlan,
    CandidateView,
    Choice,
    WaitingTask,
    explain_choice,
    plan_assignments,
    queue_order_key,
)
from router.decision import ConditionTrace, Decision, Facts, RuleTrace, TaskPlan
from router.durations import format_duration, parse_duration
from router.examples import ExampleFailure, run_examples
from router.hours import Calendar, add_business_time, business_time_between, is_business_time
from router.issues import RuleIssue, RulesError
from router.language import SUPPORTED_LANGUAGES, detect_language, warm_up_language_detector
from router.load import load_rules, load_rules_file
from router.match import decide
from router.model import AgentProfile, QueueSpec, RuleSet, SlaPolicy
from router.schema import CHANNEL_KINDS, PRIORITIES
from router.sla import sla_due_times
from router.when import MESSAGE_KINDS

__all__ = [
    "CHANNEL_KINDS",
    "MESSAGE_KINDS",
    "PRIORITIES",
    "SUPPORTED_LANGUAGES",
    "AgentProfile",
    "AgentState",
    "Assignment",
    "AssignmentPlan",
    "Calendar",
    "CandidateView",
    "Choice",
    "ConditionTrace",
    "Decision",
    "ExampleFailure",
    "Facts",
    "QueueSpec",
    "RuleIssue",
    "RuleSet",
    "RuleTrace",
    "RulesError",
    "SlaPolicy",
    "TaskPlan",
    "WaitingTask",
    "add_business_time",
    "business_time_between",
    "decide",
    "detect_language",
    "explain_choice",
    "format_duration",
    "is_business_time",
    "load_rules",
    "load_rules_file",
    "parse_duration",
    "plan_assignments",
    "queue_order_key",
    "run_examples",
    "sla_due_times",
    "warm_up_language_detector",
]
