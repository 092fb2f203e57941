"""The sync client mirrors the async one, name by name and parameter by parameter.

The walk starts at ``NemoClient`` and follows every public member; whenever an async member returns an
object with async methods of its own (a resource, ``Session``, ``Video``, ``EventStream``...), the sync
member must return its twin, which is walked in turn. So a new async method, property or resource that has
no sync counterpart (or one with other parameters or types) fails here, by name.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import os
import re
import sys
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any, Union, get_args, get_origin

import nemovideo
from nemovideo import NemoClient, SyncNemoClient

RENAMED = {
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
}
LEFT_OUT = {
    (
        "NemoClient",
        "__init__",
        "http_client",
    ): "an httpx.AsyncClient belongs to a loop; the sync client owns its pool",
    ("EventStream", "response"): "the async stream's httpx response belongs to the loop thread",
}


def _type_checking_names(module: types.ModuleType) -> dict[str, Any]:
    """The names a module imports under ``if TYPE_CHECKING:`` (its string annotations use them)."""
    names: dict[str, Any] = {}
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            code = compile(ast.Module(body=node.body, type_ignores=[]), module.__name__, "exec")
            exec(code, {"__name__": module.__name__, "__package__": module.__package__}, names)
    return names


@functools.cache
def _namespace(module_name: str) -> dict[str, Any]:
    module = sys.modules[module_name]
    return {"os": os, **vars(module), **_type_checking_names(module)}  # os: FileInput's forward reference


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    func = inspect.unwrap(func)
    return typing.get_type_hints(func, globalns=_namespace(func.__module__))


def _is_async_cm(func: Any) -> bool:
    return inspect.isfunction(func) and inspect.isasyncgenfunction(getattr(func, "__wrapped__", None))


def _is_async_api(value: Any) -> bool:
    return inspect.iscoroutinefunction(value) or inspect.isasyncgenfunction(value) or _is_async_cm(value)


def _is_handle(tp: Any) -> bool:
    """A class of the SDK with async methods: its sync twin must mirror it."""
    return (
        inspect.isclass(tp)
        and tp.__module__.startswith("nemovideo")
        and any(_is_async_api(getattr(tp, name)) for name in dir(tp) if not name.startswith("__"))
    )


def _instance_attributes(cls: type) -> set[str]:
    init = cls.__dict__.get("__init__")
    if init is None:
        return set()
    source = inspect.getsource(init)
    return set(re.findall(r"self\.([a-z]\w*)\s*(?::[^=]+)?=", source))


def _public(cls: type) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name in dir(cls):
        if name.startswith("_") and name not in {*RENAMED, *RENAMED.values(), "__init__"}:
            continue
        if name == "__init__" and "__init__" not in vars(cls):
            continue
        members[name] = inspect.getattr_static(cls, name)
    for name in _instance_attributes(cls):
        members.setdefault(name, "attribute")
    return members


class Walk:
    def __init__(self) -> None:
        self.twins: dict[type, type] = {NemoClient: SyncNemoClient}
        self.todo: list[tuple[type, type]] = [(NemoClient, SyncNemoClient)]
        self.problems: list[str] = []

    def run(self) -> list[str]:
        seen: set[type] = set()
        while self.todo:
            a_cls, s_cls = self.todo.pop()
            if a_cls not in seen:
                seen.add(a_cls)
                self.compare_classes(a_cls, s_cls)
        return self.problems

    def twin(self, a_tp: Any, s_tp: Any, where: str) -> None:
        """``s_tp`` must be ``a_tp`` with every handle class replaced by its sync twin."""
        if _is_handle(a_tp):
            known = self.twins.setdefault(a_tp, s_tp)
            if not inspect.isclass(s_tp) or known is not s_tp:
                self.problems.append(f"{where}: returns {s_tp!r}, expected the sync twin of {a_tp.__name__}")
            else:
                self.todo.append((a_tp, s_tp))
            return
        a_origin, s_origin = get_origin(a_tp), get_origin(s_tp)
        if a_origin is None or s_origin is None:
            if a_tp != s_tp:
                self.problems.append(f"{where}: {s_tp!r} differs from the async {a_tp!r}")
            return
        same = {a_origin, s_origin} <= {Union, types.UnionType} or a_origin == s_origin
        a_args, s_args = get_args(a_tp), get_args(s_tp)
        if not same or len(a_args) != len(s_args):
            self.problems.append(f"{where}: {s_tp!r} differs from the async {a_tp!r}")
            return
        for a_arg, s_arg in zip(a_args, s_args, strict=True):
            if isinstance(a_arg, list) and isinstance(s_arg, list) and len(a_arg) == len(s_arg):
                for a_item, s_item in zip(a_arg, s_arg, strict=True):
                    self.twin(a_item, s_item, where)
            else:
                self.twin(a_arg, s_arg, where)

    def compare_classes(self, a_cls: type, s_cls: type) -> None:
        s_members = _public(s_cls)
        for name, a_member in _public(a_cls).items():
            s_name = RENAMED.get(name, name)
            where = f"{s_cls.__name__}.{s_name} (async {a_cls.__name__}.{name})"
            if (a_cls.__name__, name) in LEFT_OUT or (name == "__init__" and a_cls is not NemoClient):
                continue  # handles are made by the client: only the client's constructor is public
            if s_name not in s_members:
                self.problems.append(f"{where}: missing")
                continue
            s_member = s_members[s_name]
            if a_member == "attribute":
                continue  # an instance attribute: its name is what can be checked
            a_getter = _getter(a_member)
            if a_getter is not None:
                s_getter = _getter(s_member)
                if s_getter is None:
                    self.problems.append(f"{where}: should be a property")
                else:
                    self.twin(_hints(a_getter).get("return"), _hints(s_getter).get("return"), where)
                continue
            a_func, s_func = _function(a_member), _function(s_member)
            if a_func is None or s_func is None:
                continue
            self.compare_functions(a_cls.__name__, name, a_func, s_func, where)

    def compare_functions(
        self, cls_name: str, name: str, a_func: Callable[..., Any], s_func: Callable[..., Any], where: str
    ) -> None:
        a_params = [
            p
            for p in inspect.signature(a_func).parameters.values()
            if (cls_name, name, p.name) not in LEFT_OUT
        ]
        s_params = list(inspect.signature(s_func).parameters.values())
        a_shape = [(p.name, p.kind.description, p.default) for p in a_params]
        s_shape = [(p.name, p.kind.description, p.default) for p in s_params]
        if a_shape != s_shape:
            self.problems.append(f"{where}: parameters {s_shape} differ from the async {a_shape}")
            return
        a_hints, s_hints = _hints(a_func), _hints(s_func)
        for p in a_params[1:]:
            self.twin(a_hints.get(p.name), s_hints.get(p.name), f"{where}, parameter {p.name}")
        a_ret, s_ret = a_hints.get("return"), s_hints.get("return")
        if _is_async_cm(a_func):
            (item,) = get_args(a_ret)  # AsyncIterator[X] -> a plain context manager of X's twin
            if get_origin(s_ret) is not contextlib.AbstractContextManager:
                self.problems.append(f"{where}: should return AbstractContextManager[...], not {s_ret!r}")
                return
            self.twin(item, get_args(s_ret)[0], where)
        elif inspect.isasyncgenfunction(a_func) or get_origin(a_ret) in (AsyncIterator, AsyncGenerator):
            if get_origin(s_ret) is not Iterator:
                self.problems.append(f"{where}: should return Iterator[...], not {s_ret!r}")
                return
            self.twin(get_args(a_ret)[0], get_args(s_ret)[0], where)
        else:
            self.twin(a_ret, s_ret, where)


def _getter(member: Any) -> Callable[..., Any] | None:
    if isinstance(member, property):
        return member.fget
    if isinstance(member, functools.cached_property):
        return member.func
    return None


def _function(member: Any) -> Callable[..., Any] | None:
    if isinstance(member, (staticmethod, classmethod)):
        return None  # constructors of the async side (e.g. a derived client) are not mirrored
    return member if inspect.isfunction(member) else None


def test_every_async_member_has_a_sync_twin_with_the_same_parameters() -> None:
    assert Walk().run() == []


def test_the_walk_reaches_every_resource_and_handle() -> None:
    walk = Walk()
    walk.run()
    names = {a.__name__: s.__name__ for a, s in walk.twins.items()}
    assert (
        names.items()
        >= {
            "NemoClient": "SyncNemoClient",
            "CreditsResource": "SyncCreditsResource",
            "StateResource": "SyncStateResource",
            "UploadsResource": "SyncUploadsResource",
            "RenderResource": "SyncRenderResource",
            "SessionsResource": "SyncSessionsResource",
            "Session": "SyncSession",
            "Video": "SyncVideo",
            "EventStream": "SyncEventStream",
        }.items()
    )


class _Extra:
    """An async class with members the sync side lacks, to show the walk names them."""

    async def cancel(self, *, reason: str = "") -> None: ...

    @contextlib.asynccontextmanager
    async def follow(self, job_id: str) -> AsyncIterator[nemovideo.Session]:
        yield nemovideo.Session.__new__(nemovideo.Session)

    async def history(self, limit: int = 10) -> AsyncIterator[nemovideo.Credits]:
        yield nemovideo.Credits(available=0, frozen=0, total=0)


class _SyncExtra:
    def cancel(self, *, reason: str = "x") -> None: ...

    def follow(self, job_id: str) -> Iterator[nemovideo.SyncSession]:
        raise NotImplementedError


def test_the_walk_names_what_is_missing_or_different() -> None:
    walk = Walk()
    walk.todo = [(_Extra, _SyncExtra)]
    problems = walk.run()
    assert any(p.startswith("_SyncExtra.cancel") and "parameters" in p for p in problems)
    assert any(p.startswith("_SyncExtra.follow") and "AbstractContextManager" in p for p in problems)
    assert any(p.startswith("_SyncExtra.history") and p.endswith("missing") for p in problems)
