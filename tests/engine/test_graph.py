"""build_graph turns LazyResults into nodes and typed edges; NativeSolver orders them."""

import re

import pytest

import cascade as cs


@cs.task
def one():
    return 1


@cs.task
def inc(x):
    return x + 1


@cs.task
def pair(a, b):
    return (a, b)


@cs.task
def total(values):
    return sum(values)


@cs.task
def use_db(x, db=cs.inject("db")):
    return (x, db)


@cs.task
def use_cache(cache=cs.inject("cache")):
    return cache


def kinds(graph: cs.Graph) -> list:
    return sorted(edge.kind.value for edge in graph.edges)


def node_named(graph: cs.Graph, name: str) -> cs.Node:
    (node,) = [n for n in graph.nodes if n.name == name]
    return node


def edges_into(graph: cs.Graph, node: cs.Node) -> list:
    return sorted((e.source.name, e.kind.value, e.arg) for e in graph.incoming[node.id])


def test_single_task_is_one_node_without_edges():
    lazy = one()
    graph = cs.build_graph(lazy)
    assert [(n.name, n.kind, n.id) for n in graph.nodes] == [("one", "task", lazy.id)]
    assert graph.edges == []
    assert graph.target.spec is lazy


def test_nodes_have_task_map_and_param_kinds():
    n = cs.Param("n", default=2)
    mapped = inc.map(x=[1, 2, 3])
    graph = cs.build_graph(pair(mapped, inc(n)))
    assert len(graph.nodes) == 4
    assert sorted((node.name, node.kind) for node in graph.nodes) == [
        ("inc", "map"),
        ("inc", "task"),
        ("n", "param"),
        ("pair", "task"),
    ]
    assert node_named(graph, "n").spec is n
    assert node_named(graph, "n").id == n.id


def test_data_edges_carry_the_argument_name():
    graph = cs.build_graph(pair(one(), b=inc(1)))
    target = graph.target
    assert edges_into(graph, target) == [("inc", "data", "b"), ("one", "data", "0")]
    assert all(e.target is target for e in graph.edges)


def test_a_shared_sub_result_is_one_node():
    shared = one()
    graph = cs.build_graph(pair(inc(shared), inc(shared)))
    assert len(graph.nodes) == 4
    assert [n.name for n in graph.nodes].count("one") == 1
    assert len(graph.outgoing[shared.id]) == 2


def test_the_same_lazy_result_twice_in_one_call_is_one_node_with_two_edges():
    shared = one()
    graph = cs.build_graph(pair(shared, shared))
    assert len(graph.nodes) == 2
    assert edges_into(graph, graph.target) == [("one", "data", "0"), ("one", "data", "1")]


def test_lazy_results_nested_in_containers_become_data_edges():
    graph = cs.build_graph(total([one(), (inc(1), {"k": inc(2)}), 5]))
    assert len(graph.nodes) == 4
    assert edges_into(graph, graph.target) == [
        ("inc", "data", "0"),
        ("inc", "data", "0"),
        ("one", "data", "0"),
    ]


def test_condition_edge():
    flag = one()
    graph = cs.build_graph(inc(1).run_if(flag))
    assert edges_into(graph, graph.target) == [("one", "condition", None)]


def test_constraint_edge_for_a_lazy_amount_only():
    graph = cs.build_graph(inc(1).with_constraints(cpu_slot=one(), memory=2))
    assert edges_into(graph, graph.target) == [("one", "constraint", "cpu_slot")]
    assert len(graph.nodes) == 2


def test_router_edges_selector_routes_and_gates():
    selector = one()
    left, right = inc(10), inc(20)
    graph = cs.build_graph(total(cs.Router(selector, {"l": left, "r": right})))
    target = graph.target
    incoming = graph.incoming[target.id]
    (router_edge,) = [e for e in incoming if e.kind is cs.EdgeKind.ROUTER]
    assert router_edge.source.id == selector.id and router_edge.arg == "0"
    routes = sorted((e.route_key, e.source.id) for e in incoming if e.kind is cs.EdgeKind.DATA)
    assert routes == [("l", left.id), ("r", right.id)]
    gates = {e.target.id for e in graph.edges if e.kind is cs.EdgeKind.GATE}
    assert gates == {left.id, right.id}
    assert all(e.source.id == selector.id for e in graph.edges if e.kind is cs.EdgeKind.GATE)
    assert kinds(graph) == ["data", "data", "gate", "gate", "router"]


def test_every_node_of_a_branch_is_gated_by_the_selector():
    selector = one()
    deep = inc(inc(inc(1)))
    graph = cs.build_graph(total(cs.Router(selector, {"deep": deep, "flat": 0})))
    gated = {e.target.id for e in graph.outgoing[selector.id] if e.kind is cs.EdgeKind.GATE}
    branch = {n.id for n in graph.nodes if n.name == "inc"}
    assert len(branch) == 3
    assert gated == branch


def test_a_branch_node_that_is_an_ancestor_of_the_selector_is_not_gated():
    base = one()
    selector = inc(base)
    branch = pair(base, 2)
    graph = cs.build_graph(total(cs.Router(selector, {"a": branch, "b": 0})))
    gated = {e.target.id for e in graph.edges if e.kind is cs.EdgeKind.GATE}
    assert gated == {branch.id}
    assert base.id not in gated
    cs.NativeSolver().resolve(graph)  # no cycle


def test_two_routers_sharing_a_selector_gate_a_shared_branch_node_once():
    selector = one()
    shared = inc(1)
    graph = cs.build_graph(
        pair(cs.Router(selector, {1: shared, 2: 0}), cs.Router(selector, {1: shared, 2: 5}))
    )
    gates = [e for e in graph.edges if e.kind is cs.EdgeKind.GATE]
    assert [(e.source.id, e.target.id) for e in gates] == [(selector.id, shared.id)]
    assert len([e for e in graph.edges if e.kind is cs.EdgeKind.ROUTER]) == 2


def test_injected_argument_is_a_node_resource():
    graph = cs.build_graph(pair(cs.inject("db"), [cs.inject("cache")]))
    assert graph.target.resources == frozenset({"db", "cache"})
    assert graph.edges == []


def test_injected_default_is_a_node_resource():
    graph = cs.build_graph(use_db(1))
    assert graph.target.resources == frozenset({"db"})


@pytest.mark.parametrize("call", [lambda: use_db(1, db=2), lambda: use_db(1, 2)])
def test_an_explicit_argument_overrides_the_injected_default(call):
    graph = cs.build_graph(call())
    assert graph.target.resources == frozenset()


def test_explicit_inject_overrides_the_injected_default():
    graph = cs.build_graph(use_db(1, db=cs.inject("other")))
    assert graph.target.resources == frozenset({"other"})


def test_required_resources_lists_the_tasks_in_node_order():
    graph = cs.build_graph(pair(use_db(use_cache()), use_db(2)))
    assert graph.required_resources() == {"db": ["use_db", "use_db"], "cache": ["use_cache"]}
    assert cs.build_graph(one()).required_resources() == {}


def test_required_resources_include_map_injections():
    graph = cs.build_graph(use_db.map(x=[1, 2]))
    assert graph.required_resources() == {"db": ["use_db"]}


async def test_a_deep_linear_chain_builds_solves_and_runs():
    lazy = one()
    for _ in range(4_999):
        lazy = inc(lazy)
    graph = cs.build_graph(lazy)
    assert len(graph.nodes) == 5_000 and len(graph.edges) == 4_999
    assert len(cs.NativeSolver().resolve(graph)) == 5_000
    assert await cs.Engine().run(lazy) == 5_000


def stage_names(plan) -> list:
    return [sorted(node.name for node in stage) for stage in plan]


def test_solver_puts_a_diamond_into_three_stages():
    @cs.task
    def a():
        return 1

    @cs.task
    def b(x):
        return x

    @cs.task
    def c(x):
        return x

    @cs.task
    def d(x, y):
        return x + y

    top = a()
    plan = cs.NativeSolver().resolve(cs.build_graph(d(b(top), c(top))))
    assert stage_names(plan) == [["a"], ["b", "c"], ["d"]]


def test_solver_places_a_node_after_all_its_sources():
    left = inc(inc(inc(one())))
    plan = cs.NativeSolver().resolve(cs.build_graph(pair(left, one())))
    assert stage_names(plan) == [["one", "one"], ["inc"], ["inc"], ["inc"], ["pair"]]


def test_solver_orders_gated_branches_after_the_selector():
    selector = inc(one())
    branch = pair(1, 2)
    plan = cs.NativeSolver().resolve(cs.build_graph(total(cs.Router(selector, {"x": branch}))))
    assert stage_names(plan) == [["one"], ["inc"], ["pair"], ["total"]]


def test_a_cycle_made_with_run_if_is_a_definition_error_naming_the_tasks():
    @cs.task
    def t():
        return 1

    @cs.task
    def u(x):
        return x

    a = t()
    b = u(a)
    a.run_if(b)
    message = "the workflow has a dependency cycle among tasks ['t', 'u']"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        cs.NativeSolver().resolve(cs.build_graph(b))


async def test_running_a_cycle_is_a_definition_error_and_runs_nothing():
    ran = []

    @cs.task
    def t():
        ran.append("t")

    @cs.task
    def u(x):
        ran.append("u")

    a = t()
    b = u(a)
    a.run_if(b)
    with pytest.raises(cs.DefinitionError, match=re.escape("cycle among tasks ['t', 'u']")):
        await cs.Engine().run(b)
    assert ran == []
