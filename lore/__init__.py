"""The lore engine: model, store, canon pack, search and spoiler rules. Never imports discord.

What adapters (``bot/``, the CLI, the console) may use is exported here, and only here: they
import ``from lore import X``, never a submodule (a test enforces it). Everything else in the
package is the engine's own business and may change shape.
"""

__version__ = "0.1.0"

from lore.authoring import MAX_ALIAS, MAX_FACT_TEXT, MAX_REVISION
from lore.backup import BackupError, DatabaseLock
from lore.backup import backup as backup_database
from lore.backup import restore as restore_database
from lore.copy import copy_database
from lore.editing import (
    ENTRY_EXISTS,
    FORM_KINDS,
    format_aliases,
    new_entry,
    parse_aliases,
    parse_episode,
    shown_aliases,
)
from lore.errors import CanonPackError, EntryExists, LoreError, LoreFault, PackError, StaleEntry, StoreError, WriteFault
from lore.faults import sqlite_reason
from lore.franchise import EpisodeError, Franchise
from lore.graph import (
    MAX_NODES,
    EpisodeRow,
    RelationGraph,
    Timeline,
    event_candidates,
    last_episode,
    relation_graph,
    timeline,
)
from lore.graph import Node as GraphNode
from lore.markup import echo, escape, shorten
from lore.markup import escape as quiz_escape
from lore.model import Alias, Entry, FeaturedRoster, Kind, RelationType
from lore.nameindex import Candidate
from lore.packs import CANON_PACK_PATH, read_pack_bytes
from lore.questions import Question
from lore.quiz import QUESTIONS_MAX, Outcome, Reveal, Session, questions_for
from lore.quotas import Quotas
from lore.records import Answer, History, Roster, SearchResults
from lore.render import EntryView, Item
from lore.schedule import SERVER as SCHEDULE_SERVER
from lore.schedule import Advance, Schedule, ScheduleError, check_every, last_tick, parse_start
from lore.schedule_store import Schedules
from lore.schema import SCHEMA_VERSION
from lore.scores import Answered, QuizScores
from lore.service import LoreService
from lore.spoilercheck import Verdict, catalog_for, check_spoilers, lookup_names, spoiler_tagged, verdict_text
from lore.spoilers import DEFAULT_POLICY, Mode, Policy, PolicySource, Setting
from lore.storage import POSTGRESQL, SQLITE, check_target, parse_target
from lore.store import FOLLOW_CANON

__all__ = [
    "CANON_PACK_PATH",
    "DEFAULT_POLICY",
    "ENTRY_EXISTS",
    "FOLLOW_CANON",
    "FORM_KINDS",
    "MAX_ALIAS",
    "MAX_FACT_TEXT",
    "MAX_NODES",
    "MAX_REVISION",
    "POSTGRESQL",
    "QUESTIONS_MAX",
    "SCHEDULE_SERVER",
    "SCHEMA_VERSION",
    "SQLITE",
    "Advance",
    "Alias",
    "Answer",
    "Answered",
    "BackupError",
    "Candidate",
    "CanonPackError",
    "DatabaseLock",
    "Entry",
    "EntryExists",
    "EntryView",
    "EpisodeError",
    "EpisodeRow",
    "FeaturedRoster",
    "Franchise",
    "GraphNode",
    "History",
    "Item",
    "Kind",
    "LoreError",
    "LoreFault",
    "LoreService",
    "Mode",
    "Outcome",
    "PackError",
    "Policy",
    "PolicySource",
    "Question",
    "QuizScores",
    "Quotas",
    "RelationGraph",
    "RelationType",
    "Reveal",
    "Roster",
    "Schedule",
    "ScheduleError",
    "Schedules",
    "SearchResults",
    "Session",
    "Setting",
    "StaleEntry",
    "StoreError",
    "Timeline",
    "Verdict",
    "WriteFault",
    "__version__",
    "backup_database",
    "catalog_for",
    "check_every",
    "check_spoilers",
    "check_target",
    "copy_database",
    "echo",
    "escape",
    "event_candidates",
    "format_aliases",
    "last_episode",
    "last_tick",
    "lookup_names",
    "new_entry",
    "parse_aliases",
    "parse_episode",
    "parse_start",
    "parse_target",
    "questions_for",
    "quiz_escape",
    "read_pack_bytes",
    "relation_graph",
    "restore_database",
    "shorten",
    "shown_aliases",
    "spoiler_tagged",
    "sqlite_reason",
    "timeline",
    "verdict_text",
]
