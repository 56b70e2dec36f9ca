"""One style for every status (top-ups, refund requests): a table of allowed
transitions, and one place that asks it before a status changes."""

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import InvalidState


@dataclass(frozen=True)
class StateMachine:
    """The allowed transitions of one kind of thing's status."""

    noun: str  # for messages: "top-up", "refund request"
    transitions: Mapping[str, frozenset[str]]

    def can_move(self, current: str, new: str) -> bool:
        return new in self.transitions[current]

    def move(self, current: str, new: str) -> str:
        """The new status, if the transition is allowed.

        Raises:
            InvalidState: the thing is not in a state that allows it.
        """
        if not self.can_move(current, new):
            raise InvalidState(f"a {current} {self.noun} cannot become {new}", status=current)
        return new
