"""The exception tree drawn in feedkit/errors.py is the one the code has: each class under its
parent, with the exit code it really gives."""

from __future__ import annotations

import re

from feedkit import errors

# A row: the exit code ("-" or blank where there is none), the tree's lines, the class name.
ROW = re.compile(r"^ ([-\d ])    ([│ ]*(?:[├└]── )?)(\w+)", re.MULTILINE)


def drawn() -> list[tuple[str, int, str]]:
    """(name, depth, exit code) of each row of the drawing in the module's docstring."""
    text = errors.__doc__ or ""
    return [(name, len(indent) // 4, code) for code, indent, name in ROW.findall(text)]


def test_the_drawing_names_every_exception_class_once() -> None:
    """No class is left out of the drawing, and none is drawn that the code does not have."""
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.FeedkitError)
    }
    names = [name for name, _, _ in drawn()]
    assert sorted(names) == sorted(classes)


def test_each_class_is_drawn_under_its_parent_with_its_exit_code() -> None:
    """The tree is the classes' own inheritance, and each code is the one a command exits with."""
    parents: list[str] = []
    for name, depth, code in drawn():
        del parents[depth:]
        cls = getattr(errors, name)
        if parents:
            assert cls.__bases__ == (getattr(errors, parents[-1]),), name
        if code.strip("- "):
            assert cls.exit_code == int(code), name
        parents.append(name)
