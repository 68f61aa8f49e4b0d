"""Pure: an OpenAI-style chat (``system``/``user``/``assistant`` turns) -> the one question
docqa answers, and the client's instructions to fold into the prompt.

docqa answers one question from retrieved sources, as ``/ask`` does; a chat client sends the
whole conversation each time. The rules:

1. The question is the last ``user`` message. Earlier ``assistant`` turns are not sent to the
   model (the prompt is ``/ask``'s, one user turn).
2. Follow-ups. A message that refers back to something earlier, because it contains one of
   ``REFERRING_WORDS`` (``it``, ``its``, ``they``, ``this``, ``there``, ...) as a word, is a
   follow-up: it is made self-contained by putting the user message before it in front of it
   (``"Who built the Eiffel Tower? When was it finished?"``), and so on back while the earlier
   message is itself a follow-up, at most ``MAX_TURNS`` user messages in all. A message that
   refers to nothing earlier stands alone, so a change of subject starts afresh. The
   self-contained text is both the retrieval query and the prompt's question.
3. ``system`` messages (and OpenAI's ``developer``) are the client's instructions: joined, they
   are folded into the first (only) user turn ahead of docqa's own instructions, since
   Mistral's chat template has no system role. They never take part in retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from docqa.core.errors import InvalidInput
from docqa.core.models import Message, Prompt

MAX_TURNS = 4
MAX_QUESTION_CHARS = 4000  # /ask's limit on a question

REFERRING_WORDS = frozenset(
    {"it", "its", "itself", "they", "them", "their", "theirs", "themselves", "this", "that"}
    | {"these", "those", "he", "him", "his", "she", "her", "hers", "there", "then", "such"}
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Turn:
    role: str  # system, developer, user, assistant (tool turns are not read)
    content: str


@dataclass(frozen=True)
class Conversation:
    question: str  # self-contained: the retrieval query and the prompt's question
    instructions: str  # the client's system messages, joined; "" when none


def refers_back(text: str) -> bool:
    """Whether ``text`` has a word that points at something said earlier (rule 2)."""
    words = {word.split("'")[0] for word in _WORD.findall(text.lower())}
    return bool(words & REFERRING_WORDS)


def read(turns: Sequence[Turn]) -> Conversation:
    """The question and instructions of a chat (see the module rules)."""
    users = [t.content.strip() for t in turns if t.role == "user" and t.content.strip()]
    if not turns or turns[-1].role != "user":
        raise InvalidInput("messages: the last message must be the user's question")
    if not users or not turns[-1].content.strip():
        raise InvalidInput("messages: the last user message is empty")
    kept = [users[-1]]
    for earlier in reversed(users[:-1]):
        if len(kept) >= MAX_TURNS or not refers_back(kept[0]):
            break
        kept.insert(0, earlier)
    question = " ".join(kept)
    while len(question) > MAX_QUESTION_CHARS and len(kept) > 1:
        kept.pop(0)  # the oldest context goes first
        question = " ".join(kept)
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(
            f"messages: the last user message is {len(question)} characters; "
            f"the limit is {MAX_QUESTION_CHARS}"
        )
    system = [t.content.strip() for t in turns if t.role in ("system", "developer")]
    return Conversation(question=question, instructions="\n\n".join(s for s in system if s))


def fold(prompt: Prompt, instructions: str) -> Prompt:
    """``prompt`` with the client's ``instructions`` at the start of its first user turn (and
    of its completion text): rule 3."""
    if not instructions:
        return prompt
    first, *rest = prompt.messages
    folded = Message(role="user", content=f"{instructions}\n\n{first.content}")
    return replace(prompt, messages=(folded, *rest), text=f"{instructions}\n\n{prompt.text}")
