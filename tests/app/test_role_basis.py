"""What the call page's speakers pane says a role rests on: a reviewer weighs a guess differently
from a channel or a recognised voice."""

from __future__ import annotations

import pytest

from review_app.formatting import role_basis
from transcribe.types import Speaker


@pytest.mark.parametrize(
    ("speaker", "said"),
    [
        (Speaker("S1", "agent", 0, role_source="channel"), "Role from the recording's channel"),
        (Speaker("S2", "customer", role_source="reviewer"), "Role set by a reviewer"),
        (
            Speaker("S2", "agent", role_source="voice", agent_similarity=0.912),
            "Recognised by voice as the call's agent (similarity 0.91)",
        ),
        (
            Speaker("S1", "customer", role_source="voice", agent_similarity=0.41),
            "Not the agent's voice (similarity 0.41)",
        ),
        (Speaker("S3", "other", role_source="voice"), "Not the agent's voice"),
        (Speaker("S1", "agent", role_source="first_speaker"), "Role guessed from the order of speaking"),
        (
            Speaker("S1", "agent", role_source="first_speaker", agent_similarity=0.68),
            "Role guessed from the order of speaking; the agent's voiceprint was not a clear match (0.68)",
        ),
        (Speaker("S1"), None),
    ],
)
def test_each_way_a_role_was_decided_is_said(speaker: Speaker, said: str | None) -> None:
    assert role_basis(speaker) == said
