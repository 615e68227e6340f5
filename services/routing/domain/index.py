"""Who could take a conversation, kept in the shop's ranking order: a decision without a scan.

An operator online with room on a channel is listed, for that channel, under
every (language, topic, team) a conversation could match them by, and under
"any" for each of the three (``None``): a conversation then reads, in order,
only the lists its level allows. Operators listing no topics take every topic
(``GENERALIST``). Each list is kept sorted by the shop's ranking key
(``decision.order``), so the best candidates come first and a decision reads a
handful of entries, whatever the size of the team: O(log n) to keep the lists
when an operator's load changes, O(1) lists read per decision.

The index is derived from the operators and is never written to a snapshot: a
shop rebuilds it when its state is loaded or its fairness rule changes.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field

from services.routing.domain.decision import FALLBACK_LANGUAGE, Fairness, Key, Level, order
from services.routing.domain.model import Conversation, Operator, Status

# (channel, language, topic, team); ``None``: any.
Bucket = tuple[str, str | None, str | None, str | None]
# The topic under which operators listing no topics are found: they take every topic.
GENERALIST = ""


@dataclass
class Index:
    fairness: Fairness = Fairness.LOWEST_LOAD
    buckets: dict[Bucket, list[Key]] = field(default_factory=dict)
    # Operator id -> where they are listed, to take them out again.
    placed: dict[str, list[tuple[Bucket, Key]]] = field(default_factory=dict)
    # The operators as last put, for the counts below.
    members: dict[str, Operator] = field(default_factory=dict)
    online: int = 0
    # Operators online with room on some channel (what a drain can use), in all and by language.
    available: int = 0
    available_speaking: dict[str, int] = field(default_factory=dict)
    # Language -> operators speaking it and the fallback language; all of them, and the available.
    bilingual: dict[str, int] = field(default_factory=dict)
    available_bilingual: dict[str, int] = field(default_factory=dict)

    def put(self, operator: Operator) -> None:
        """List ``operator`` as they are now (after any change of status, profile or load)."""
        previous = self.members.get(operator.id)
        self.members[operator.id] = operator
        if previous is None or _counted(previous) != _counted(operator):
            if previous is not None:
                self._count(previous, -1)
            self._count(operator, +1)
        places = _places(operator, self.fairness)
        if places == self.placed.get(operator.id, []):
            return
        self._unlist(operator.id)
        for bucket, key in places:
            insort(self.buckets.setdefault(bucket, []), key)
        if places:
            self.placed[operator.id] = places

    def walk(self, conversation: Conversation) -> Iterator[str]:
        """Operators online with room on the conversation's channel who match its language, topic
        and team at its level, best ranked first (sticky aside), each once. The conversation's
        exclusions are not indexed: the caller still checks ``fits``."""
        level, channel, language = conversation.level, conversation.channel, conversation.language
        if not language:
            languages: tuple[str | None, ...] = (None,)
        elif level >= Level.FALLBACK_LANGUAGE and language != FALLBACK_LANGUAGE:
            languages = (language, FALLBACK_LANGUAGE)
        else:
            languages = (language,)
        if level < Level.ANY_TOPIC and conversation.topics:
            topics: tuple[str | None, ...] = (GENERALIST, *conversation.topics)
        else:
            topics = (None,)
        team = conversation.team if level < Level.ANY_TEAM and conversation.team else None
        lists = [
            keys
            for lang in languages
            for topic in topics
            if (keys := self.buckets.get((channel, lang, topic, team)))
        ]
        if len(lists) == 1:
            for key in lists[0]:
                yield key[-1]
            return
        seen: set[str] = set()
        for key in heapq.merge(*lists):
            operator_id = key[-1]
            if operator_id not in seen:
                seen.add(operator_id)
                yield operator_id

    def _unlist(self, operator_id: str) -> None:
        for bucket, key in self.placed.pop(operator_id, ()):
            keys = self.buckets[bucket]
            del keys[bisect_left(keys, key)]
            if not keys:
                del self.buckets[bucket]

    def _count(self, operator: Operator, sign: int) -> None:
        online, available, languages = _counted(operator)
        bilingual = FALLBACK_LANGUAGE in languages
        self.online += sign * online
        self.available += sign * available
        for language in languages:
            if available:
                _add(self.available_speaking, language, sign)
            if bilingual:
                _add(self.bilingual, language, sign)
                if available:
                    _add(self.available_bilingual, language, sign)


def _counted(operator: Operator) -> tuple[bool, bool, tuple[str, ...]]:
    """What the counts depend on: online, available (taking new conversations on some channel with
    room on it: online, or away on a channel the shop still routes), languages."""
    online = operator.status is Status.ONLINE
    available = any(operator.serves(c) and operator.free(c) > 0 for c in operator.capacities)
    return online, available, tuple(operator.languages)


def _add(counts: dict[str, int], language: str, sign: int) -> None:
    counts[language] = counts.get(language, 0) + sign
    if not counts[language]:
        del counts[language]


def _places(operator: Operator, fairness: Fairness) -> list[tuple[Bucket, Key]]:
    if operator.status is Status.OFFLINE:
        return []
    languages: list[str | None] = [*operator.languages, None]
    topics: list[str | None] = [*sorted(operator.topics or (GENERALIST,)), None]
    teams: list[str | None] = [operator.team, None] if operator.team else [None]
    places: list[tuple[Bucket, Key]] = []
    for channel in operator.capacities:
        if not operator.serves(channel) or operator.free(channel) <= 0:
            continue
        key = order(operator, channel, fairness)
        places += [
            ((channel, language, topic, team), key)
            for language in languages
            for topic in topics
            for team in teams
        ]
    return places
