"""Whom one shop's routing offers a conversation to, read from its ranking index: ``decide``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from services.routing.domain.decision import (
    FALLBACK_LANGUAGE,
    LISTED,
    Candidate,
    Decision,
    Level,
    Rules,
    assign,
    fits,
    held_for,
    held_reason,
    refusal,
    wait,
)
from services.routing.domain.index import Index
from services.routing.domain.model import Conversation, Operator


class Decide:
    """``TenantRouting``'s decision for one conversation: assign it to the best ranked, or wait."""

    if TYPE_CHECKING:  # the fields of ``TenantRouting`` the decision reads
        operators: dict[str, Operator]
        speakers: dict[str, dict[str, None]]
        rules: Rules
        index: Index

    def decide(self, conversation: Conversation, now: datetime, drained: bool = False) -> Decision:
        """``decision.decide`` over the operators who could match, read from the index in ranking order.

        The same choice as the scan, and the same listing of the best ranked; an assignment lists as
        refused those met before its last listed candidate (the scan listed the first refused in the
        shop's order), a wait the first refused in the shop's order, as the scan did. ``drained``:
        the queue drains into freed capacity, only operators online with room are counted as
        considered, as before, and a wait (which a drain does not emit) lists no refusals.
        """
        rules = self.rules
        held = held_for(conversation, now)
        preferred = held or (conversation.last_operator_id if rules.sticky else "")
        first = self.operators.get(preferred) if preferred else None
        ranked = [first] if first is not None and fits(first, conversation) else []
        refused: list[Candidate] = []
        considered = self._considered(conversation, drained)
        if not held:
            for operator_id in self.index.walk(conversation):
                if len(ranked) >= LISTED:
                    break
                operator = self.operators[operator_id]
                if operator is first:
                    continue
                if fits(operator, conversation):
                    ranked.append(operator)
                elif len(refused) < LISTED:
                    refused.append(Candidate(operator_id, 0.0, refusal(operator, conversation)))
        if ranked:
            return assign(conversation, ranked, tuple(refused), considered, rules)
        # Nobody eligible: every candidate is refused, and the first ones in the shop's order are
        # listed. A drain emits no waits: it lists none.
        refused = []
        for operator in () if drained else self._candidates(conversation):
            if len(refused) >= LISTED:
                break
            refused.append(
                Candidate(operator.id, 0.0, refusal(operator, conversation) or held_reason(conversation))
            )
        online = drained or self.index.online > 0
        return wait(conversation, now, tuple(refused), considered, online)

    def _considered(self, conversation: Conversation, drained: bool) -> int:
        """How many operators the scan was given: who speak the language (or the fallback language,
        once widened that far), of those only the ones online with room when the queue drains."""
        index, language = self.index, conversation.language
        if drained:
            speaking, bilingual, everyone = (
                index.available_speaking,
                index.available_bilingual,
                index.available,
            )
        else:
            speaking = {
                lang: len(ids) for lang, ids in self.speakers.items() if lang in (language, FALLBACK_LANGUAGE)
            }
            bilingual, everyone = index.bilingual, len(self.operators)
        if not language:
            return everyone
        count = speaking.get(language, 0)
        if conversation.level >= Level.FALLBACK_LANGUAGE:
            count += speaking.get(FALLBACK_LANGUAGE, 0) - bilingual.get(language, 0)
        return count

    def _candidates(self, conversation: Conversation) -> Iterator[Operator]:
        """Who speaks the conversation's language, or the fallback language once it is widened that
        far, in the shop's order: only a wait reads them, and only the first few."""
        if not conversation.language:
            yield from self.operators.values()
            return
        speakers = self.speakers.get(conversation.language, {})
        for operator_id in speakers:
            yield self.operators[operator_id]
        if conversation.level >= Level.FALLBACK_LANGUAGE:
            for operator_id in self.speakers.get(FALLBACK_LANGUAGE, {}):
                if operator_id not in speakers:
                    yield self.operators[operator_id]
