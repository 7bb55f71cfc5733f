"""A model of Python's backtracking regular-expression engine that counts the steps it takes.

`re` reports no measure of its work, so linear behaviour is shown on this model: it walks the parse
tree `re` itself compiles, tries alternatives in the same order and counts every character test and
every backtrack. The real engine only skips steps of this walk (prefix scans, fast paths), so a
pattern whose count grows quadratically here is quadratic there too.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

# re's own parser and the node names of its parse tree: private, and typed by no stub.
sre: Any = importlib.import_module("re._constants")
_parser: Any = importlib.import_module("re._parser")

Continuation = Callable[[int], bool]
Node = tuple[Any, Any]
SINGLE_CHARACTER = (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN)
REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
MODES = ("match", "fullmatch", "search", "finditer")  # sub and split do the work of finditer


class StepCounter:
    """Runs one compiled pattern over texts, as `re` would, counting steps."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        self.tree: list[Node] = list(parsed)
        flags = parsed.state.flags
        self.ignore_case = bool(flags & re.IGNORECASE)
        self.multiline = bool(flags & re.MULTILINE)
        self.dot_all = bool(flags & re.DOTALL)
        self.text = ""
        self.steps = 0

    def run(self, text: str, mode: str) -> tuple[int, list[tuple[int, int]]]:
        """The steps taken and the spans matched when the pattern is used on `text` in `mode`."""
        assert mode in MODES, mode
        usual = sys.getrecursionlimit()
        # Each repetition of a group nests a few Python calls; `re` keeps its own stack instead.
        sys.setrecursionlimit(max(usual, 50 * len(text) + 1000))
        try:
            return self._run(text, mode)
        finally:  # later tests (and code that relies on the limit) get the usual one back
            sys.setrecursionlimit(usual)

    def _run(self, text: str, mode: str) -> tuple[int, list[tuple[int, int]]]:
        self.text, self.steps = text, 0
        if mode in ("match", "fullmatch"):
            end = self._attempt(0, whole=mode == "fullmatch")
            return self.steps, [(0, end)] if end >= 0 else []
        spans: list[tuple[int, int]] = []
        start = 0
        while start <= len(text) and not (mode == "search" and spans):
            end = self._attempt(start, whole=False)
            if end < 0:
                start += 1
                continue
            spans.append((start, end))
            start = end if end > start else start + 1
        return self.steps, spans

    def _attempt(self, start: int, whole: bool) -> int:
        """Where a match starting at `start` ends, or -1."""
        found = -1

        def accept(end: int) -> bool:
            nonlocal found
            if whole and end != len(self.text):
                return False
            found = end
            return True

        self._sequence(self.tree, 0, start, accept)
        return found

    def _sequence(self, nodes: Sequence[Node], index: int, pos: int, then: Continuation) -> bool:
        if index == len(nodes):
            return then(pos)
        op, argument = nodes[index]

        def rest(end: int) -> bool:
            return self._sequence(nodes, index + 1, end, then)

        self.steps += 1
        if op in SINGLE_CHARACTER:
            fits = pos < len(self.text) and self._matches((op, argument), self.text[pos])
            return fits and rest(pos + 1)
        if op is sre.AT:
            return self._at(argument, pos) and rest(pos)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            return self._lookaround(op, argument, pos) and rest(pos)
        return self._group(op, argument, pos, rest)

    def _group(self, op: Any, argument: Any, pos: int, then: Continuation) -> bool:
        if op is sre.SUBPATTERN:
            return self._sequence(list(argument[-1]), 0, pos, then)
        if op is sre.BRANCH:
            return any(self._sequence(list(branch), 0, pos, then) for branch in argument[1])
        if op in REPEATS:
            return self._repeat(op, argument, pos, then)
        raise NotImplementedError(f"the model does not know {op}")

    def _repeat(self, op: Any, argument: Any, pos: int, then: Continuation) -> bool:
        low, high, body = argument[0], argument[1], list(argument[2])
        if len(body) == 1 and body[0][0] in SINGLE_CHARACTER:
            return self._repeat_character((op, argument), pos, then)
        greedy = op is not sre.MIN_REPEAT

        def more(count: int, at: int) -> bool:
            self.steps += 1
            if not greedy and count >= low and then(at):
                return True

            # An iteration that consumes nothing ends the loop, as in `re`.
            def again(end: int) -> bool:
                return end != at and more(count + 1, end)

            if count < high and self._sequence(body, 0, at, again):
                return True
            return greedy and count >= low and then(at)

        return more(0, pos)

    def _repeat_character(self, repeat: Node, pos: int, then: Continuation) -> bool:
        """`x*`, `[^}]*?` and the like, as `re`'s REPEAT_ONE and MIN_REPEAT_ONE run them."""
        op, (low, high, body) = repeat
        node = body[0]
        limit = len(self.text) if high == sre.MAXREPEAT else min(len(self.text), pos + high)
        end = pos
        if op is sre.MIN_REPEAT:
            while True:
                if end - pos >= low:
                    self.steps += 1
                    if then(end):
                        return True
                self.steps += 1
                if end >= limit or not self._matches(node, self.text[end]):
                    return False
                end += 1
        while end < limit and self._matches(node, self.text[end]):
            self.steps += 1
            end += 1
        if op is sre.POSSESSIVE_REPEAT:
            return end - pos >= low and then(end)
        for stop in range(end, pos + low - 1, -1):
            self.steps += 1
            if then(stop):
                return True
        return False

    def _lookaround(self, op: Any, argument: Any, pos: int) -> bool:
        direction, body = argument
        if direction == 1:
            found = self._sequence(list(body), 0, pos, lambda _end: True)
        else:
            width = body.getwidth()[0]
            start = pos - width
            found = start >= 0 and self._sequence(list(body), 0, start, lambda end: end == pos)
        return found if op is sre.ASSERT else not found

    def _matches(self, node: Node, character: str) -> bool:
        op, argument = node
        self.steps += 1
        if op is sre.ANY:
            return self.dot_all or character != "\n"
        if op is sre.LITERAL:
            return self._same(character, argument)
        if op is sre.NOT_LITERAL:
            return not self._same(character, argument)
        items = list(argument)
        negated = bool(items) and items[0][0] is sre.NEGATE
        hit = any(self._in_item(item, character) for item in items[1 if negated else 0 :])
        return hit != negated

    def _same(self, character: str, code: int) -> bool:
        if self.ignore_case:
            return character.lower() == chr(code).lower()
        return character == chr(code)

    def _in_item(self, item: Node, character: str) -> bool:
        op, argument = item
        if op is sre.LITERAL:
            return self._same(character, argument)
        if op is sre.RANGE:
            forms = {character}
            if self.ignore_case:
                forms |= {character.lower(), character.upper()}
            return any(argument[0] <= ord(form) <= argument[1] for form in forms)
        if op is sre.CATEGORY:
            return _in_category(argument, character)
        raise NotImplementedError(f"the model does not know {op} in a set")

    def _at(self, where: Any, pos: int) -> bool:
        text = self.text
        if where is sre.AT_BEGINNING:
            return pos == 0 or (self.multiline and text[pos - 1] == "\n")
        if where is sre.AT_BEGINNING_STRING:
            return pos == 0
        if where is sre.AT_END:
            at_last_newline = pos == len(text) - 1 and text[pos] == "\n"
            return pos == len(text) or at_last_newline or (self.multiline and text[pos] == "\n")
        if where is sre.AT_END_STRING:
            return pos == len(text)
        before = pos > 0 and _in_category(sre.CATEGORY_WORD, text[pos - 1])
        after = pos < len(text) and _in_category(sre.CATEGORY_WORD, text[pos])
        if where is sre.AT_BOUNDARY:
            return before != after
        if where is sre.AT_NON_BOUNDARY:
            return before == after
        raise NotImplementedError(f"the model does not know {where}")


def _in_category(category: Any, character: str) -> bool:
    tests: dict[Any, Callable[[str], bool]] = {
        sre.CATEGORY_DIGIT: str.isdecimal,
        sre.CATEGORY_SPACE: str.isspace,
        sre.CATEGORY_WORD: lambda char: char.isalnum() or char == "_",
    }
    for positive, negative in (
        (sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_DIGIT),
        (sre.CATEGORY_SPACE, sre.CATEGORY_NOT_SPACE),
        (sre.CATEGORY_WORD, sre.CATEGORY_NOT_WORD),
    ):
        if category is positive:
            return tests[positive](character)
        if category is negative:
            return not tests[positive](character)
    raise NotImplementedError(f"the model does not know {category}")
