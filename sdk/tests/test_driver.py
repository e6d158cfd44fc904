"""The host's Python-thread drivers (`remotemedia.driver`), through a mailbox of the test's own:
what a stage's thread constructs, what the service thread describes, what they leave alone,
and what they import."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from _engines import run_python_script
from remotemedia.driver import Driver, StageDriver
from remotemedia.driver.serve import Serving
from remotemedia.node import Node


class Mailbox:
    """The host's end: requests queued by the test, replies and log records kept."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, str, Any]] = []
        self.replies: dict[int, tuple[str, Any]] = {}
        self.logs: list[tuple[int, str, str | None, str]] = []

    def take(self) -> list[tuple[int, str, Any]]:
        requests, self.requests = self.requests, []
        return requests

    def reply(self, token: int, kind: str, payload: Any) -> None:
        self.replies[token] = (kind, payload)

    def started(self, thread_ident: int) -> None:
        self.thread = thread_ident

    def running(self, busy: bool) -> None:
        self.busy = busy

    def log(self, level: int, logger: str, node_id: str | None, message: str) -> None:
        self.logs.append((level, logger, node_id, message))


class Served:
    """A driver and its mailbox; `ask` sends one request and returns its reply."""

    def __init__(self, make: Callable[[Mailbox, int], Serving]) -> None:
        self.mailbox = Mailbox()
        self._host_end, loop_end = socket.socketpair()
        self.driver: Any = make(self.mailbox, loop_end.fileno())
        loop_end.close()  # the driver keeps its own duplicate
        self._token = 0

    def ask(self, op: str, payload: Any = None) -> tuple[str, Any]:
        self._token += 1
        self.mailbox.requests.append((self._token, op, payload))
        self.driver._take()  # what the driver does when the host's wake-up byte comes
        return self.mailbox.replies.pop(self._token)

    def close(self) -> None:
        self.ask("shutdown")
        self.driver.run()  # returns at once: shutdown was asked; closes the driver's socket
        self._host_end.close()


@pytest.fixture
def served() -> Iterator[Served]:
    """A stage's thread inside a caller's program."""
    driver = Served(lambda host, fd: StageDriver(host, fd, owns_process=False))
    yield driver
    driver.close()


@pytest.fixture
def service() -> Iterator[Served]:
    """The service thread."""
    driver = Served(Driver)
    yield driver
    driver.close()


class Constructed:
    """Not a Node: records every call, which must never happen."""

    calls: ClassVar[list[Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        Constructed.calls.append(kwargs)


class Logs(Node):
    """Logs every item on the "test.driver" logger and forwards it."""

    def __init__(self, level: int = 0, name: str | None = None) -> None:
        super().__init__(name=name)
        self.level = level

    def process(self, data: Any) -> Any:
        logging.getLogger("test.driver").warning("item %s", data)
        return data


def _create(module: str, qualname: str, params: dict[str, Any] | None = None) -> Any:
    return ([("n", module, qualname, params or {}, None)], 4)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("test_driver", "Constructed"), ("os", "makedirs"), ("collections", "OrderedDict")],
)
def test_create_refuses_what_is_not_a_node_class_before_calling_it(
    served: Served, module: str, qualname: str
) -> None:
    kind, (node_id, error_type, message, _) = served.ask("create", _create(module, qualname))
    assert (kind, node_id, error_type) == ("error", "n", "TypeError")
    assert message == f'"{module}:{qualname}" is not a remotemedia.Node subclass'
    assert Constructed.calls == []


def test_create_constructs_a_node_class_with_its_id_and_params(served: Served) -> None:
    assert served.ask("create", _create("test_driver", "Logs", {"level": 3})) == ("ack", None)
    (node,) = served.driver.stage.nodes
    assert isinstance(node, Logs)
    assert (node.name, node.level) == ("n", 3)


def test_describe_answers_what_a_manifest_may_give_the_class(service: Served) -> None:
    kind, text = service.ask("describe", ("test_driver", "Logs"))
    assert kind == "json"
    info = json.loads(text)
    assert (info["node_type"], info["module"], info["qualname"]) == ("Logs", "test_driver", "Logs")
    assert info["provider"] is None
    assert [p["name"] for p in info["params"]] == ["level"]


@pytest.mark.parametrize(
    ("module", "qualname", "error_type"),
    [
        ("test_driver", "Constructed", "TypeError"),
        ("test_driver", "Missing", "AttributeError"),
        ("no_such_module_here", "X", "ModuleNotFoundError"),
    ],
)
def test_describe_reports_what_cannot_be_described_as_an_error(
    service: Served, module: str, qualname: str, error_type: str
) -> None:
    kind, (_, found_type, _, _) = service.ask("describe", (module, qualname))
    assert (kind, found_type) == ("error", error_type)
    assert Constructed.calls == []


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, with its level and handlers restored afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    root.handlers[:] = handlers


def _run_one_item(driver: Served) -> None:
    assert driver.ask("create", _create("test_driver", "Logs")) == ("ack", None)
    assert driver.ask("init") == ("ack", None)
    assert driver.ask("push", [7]) == ("ack", None)
    assert driver.ask("pull") == ("items", [7])


def test_inside_a_callers_program_logging_is_left_alone(
    served: Served, root_logger: logging.Logger
) -> None:
    level, handlers = root_logger.level, list(root_logger.handlers)
    _run_one_item(served)
    assert (root_logger.level, root_logger.handlers) == (level, handlers)
    assert served.mailbox.logs == []


def test_when_the_host_owns_the_process_logging_goes_to_the_hosts_log(
    root_logger: logging.Logger,
) -> None:
    owner = Served(lambda host, fd: StageDriver(host, fd, owns_process=True))
    try:
        _run_one_item(owner)
    finally:
        owner.close()
    assert root_logger.level == logging.DEBUG
    assert (logging.WARNING, "test.driver", "n", "item 7") in owner.mailbox.logs


def test_importing_the_driver_leaves_out_what_start_up_does_not_use() -> None:
    done = run_python_script(
        """
        import sys
        import remotemedia.driver
        heavy = ["asyncio", "typing", "inspect", "logging", "pluggy", "importlib.metadata"]
        print(sorted(name for name in heavy if name in sys.modules))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
