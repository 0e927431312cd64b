"""Components say whether the chain fast path may skip them (`bypassable`); subclasses too."""

import cascade as cs
import cascade.runtime.engine as engine_module


@cs.task
def double(x: int) -> int:
    return 2 * x


@cs.task
async def add(x: int, y: int) -> int:
    return x + y


def test_the_stock_components_may_be_bypassed():
    assert cs.LocalExecutor.bypassable and cs.NativeSolver.bypassable


def test_a_subclass_that_overrides_the_method_is_not_bypassed_unless_it_says_so():
    class Logging(cs.LocalExecutor):
        async def execute(self, task, args, kwargs):
            return await super().execute(task, args, kwargs)

    class Declared(Logging):
        bypassable = True

    class Plain(cs.LocalExecutor):
        pass

    assert (Logging.bypassable, Declared.bypassable, Plain.bypassable) == (False, True, True)


async def test_an_executor_that_is_not_bypassed_makes_every_chain_call():
    class Counting(cs.LocalExecutor):
        def __init__(self) -> None:
            self.calls: list[str] = []

        async def execute(self, task, args, kwargs):
            self.calls.append(task.name)
            return await super().execute(task, args, kwargs)

    executor = Counting()
    engine = cs.Engine(executor=executor)
    assert await engine.run(add(double(2), 1)) == 5
    assert executor.calls == ["double", "add"]
    assert engine.statistics().tasks_executed == 2


async def test_a_solver_that_says_so_keeps_the_fast_path(monkeypatch):
    built = []
    original = engine_module.build_graph
    monkeypatch.setattr(engine_module, "build_graph", lambda t: built.append(t) or original(t))

    class Traced(cs.NativeSolver):
        bypassable = True  # its plan for a chain is the chain: it may be skipped

        def resolve(self, graph):
            return super().resolve(graph)

    class Asked(cs.NativeSolver):
        def resolve(self, graph):
            return super().resolve(graph)

    assert await cs.Engine(solver=Traced()).run(add(double(2), 1)) == 5
    assert built == []
    assert await cs.Engine(solver=Asked()).run(add(double(2), 1)) == 5
    assert len(built) == 1
