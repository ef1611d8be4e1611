"""The module registry (``sync.registry``): mutation keys are unique, resolution by exact
version and by latest version, unknown mutations raise ``UnknownMutation``, a table takes one
sync spec, and ``_toposort`` orders module dependencies first and refuses cycles and unknown
dependencies. Also checks the real registry that ``discover()`` builds from ``erp``."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table

from sync.errors import UnknownMutation
from sync.registry import ModuleManifest, MutationDef, Registry, _toposort, discover, mutation
from sync.specs import ScopeKind, SyncKind, SyncSpec, version_column


class NoArgs(msgspec.Struct, frozen=True):
    pass


class Amount(msgspec.Struct, frozen=True):
    value: int


def make_def(name: str, version: int, marker: str = "") -> MutationDef:
    def handler(ctx, args):  # pragma: no cover - never called
        return marker

    return MutationDef(name, version, NoArgs, handler, description=marker)


def manifest(name: str, *, depends: tuple[str, ...] = (), mutations: tuple[MutationDef, ...] = (),
             specs: tuple[SyncSpec, ...] = ()) -> ModuleManifest:
    return ModuleManifest(name=name, description=name, depends=depends, mutations=mutations, sync_specs=specs)


# -- mutations ---------------------------------------------------------------------------------


def test_mutation_decorator_builds_a_definition() -> None:
    @mutation("demo.apply", 3, Amount)
    def apply(ctx, args: Amount) -> int:
        """Apply an amount."""
        return args.value

    assert isinstance(apply, MutationDef)
    assert apply.key == "demo.apply@3"
    assert apply.description == "Apply an amount."
    assert apply.decode_json(b'{"value": 5}') == Amount(5)
    assert apply.convert({"value": "7"}) == Amount(7)  # lax conversion of wire data
    assert apply.handler(None, Amount(9)) == 9
    with pytest.raises(msgspec.ValidationError):
        apply.convert({"value": "not a number"})


def test_duplicate_mutation_key_in_one_module_raises() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match=r"demo.op@1 registered twice"):
        registry.add(manifest("demo", mutations=(make_def("demo.op", 1), make_def("demo.op", 1))))


def test_duplicate_mutation_key_across_modules_raises() -> None:
    registry = Registry()
    registry.add(manifest("a", mutations=(make_def("shared.op", 2),)))
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(manifest("b", mutations=(make_def("shared.op", 2),)))
    assert registry.resolve("shared.op", 2).key == "shared.op@2"


def test_same_name_different_versions_is_fine() -> None:
    registry = Registry()
    registry.add(manifest("demo", mutations=(make_def("demo.op", 1), make_def("demo.op", 2))))
    assert set(registry.mutations) == {"demo.op@1", "demo.op@2"}


def test_resolve_unknown_raises_unknown_mutation() -> None:
    registry = Registry()
    registry.add(manifest("demo", mutations=(make_def("demo.op", 1),)))
    with pytest.raises(UnknownMutation) as caught:
        registry.resolve("demo.op", 2)
    assert caught.value.code == "sync.unknown_mutation"
    assert caught.value.details == {"name": "demo.op", "version": 2}
    with pytest.raises(UnknownMutation):
        registry.resolve("demo.missing", 1)


def test_resolve_latest_unknown_raises_unknown_mutation() -> None:
    with pytest.raises(UnknownMutation) as caught:
        Registry().resolve_latest("nothing.here")
    assert caught.value.details == {"name": "nothing.here"}


@given(st.permutations([1, 2, 3, 5, 8]))
def test_resolve_latest_picks_the_highest_version_whatever_the_order(versions: list[int]) -> None:
    registry = Registry()
    definitions = tuple(make_def("demo.op", version, marker=f"v{version}") for version in versions)
    registry.add(manifest("demo", mutations=definitions))
    assert registry.resolve_latest("demo.op").version == 8
    for version in versions:
        assert registry.resolve("demo.op", version).description == f"v{version}"


def test_resolve_latest_across_modules() -> None:
    registry = Registry()
    registry.add(manifest("new", mutations=(make_def("demo.op", 4),)))
    registry.add(manifest("old", mutations=(make_def("demo.op", 1),)))
    assert registry.resolve_latest("demo.op").version == 4


# -- specs -------------------------------------------------------------------------------------


def test_a_table_takes_one_sync_spec_only() -> None:
    probe_metadata = MetaData()
    table = Table("probe_rows", probe_metadata, Column("id", Integer, primary_key=True), version_column())
    registry = Registry()
    registry.add(manifest("a", specs=(SyncSpec(table, SyncKind.LEDGER, ScopeKind.SHARED),)))
    with pytest.raises(ValueError, match="two sync specs"):
        registry.add(manifest("b", specs=(SyncSpec(table, SyncKind.DERIVED, ScopeKind.SHARED),)))
    assert registry.spec("probe_rows").kind is SyncKind.LEDGER
    assert [spec.name for spec in registry.ordered_specs()] == ["probe_rows"]


# -- _toposort ---------------------------------------------------------------------------------


def names(ordered: list[ModuleManifest]) -> list[str]:
    return [item.name for item in ordered]


def test_toposort_puts_dependencies_first() -> None:
    manifests = {
        "app": manifest("app", depends=("inventory", "org")),
        "inventory": manifest("inventory", depends=("org",)),
        "org": manifest("org"),
        "accounting": manifest("accounting", depends=("org",)),
    }
    order = names(_toposort(manifests))
    assert sorted(order) == sorted(manifests)
    assert order.index("org") < order.index("inventory") < order.index("app")
    assert order.index("org") < order.index("accounting")


@given(st.data())
def test_toposort_orders_any_dag(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=8))
    labels = data.draw(st.permutations([f"m{i}" for i in range(count)]))
    manifests = {}
    for index, label in enumerate(labels):
        # Only earlier labels can be dependencies, so the graph has no cycle.
        depends = data.draw(st.lists(st.sampled_from(labels[:index]), unique=True)) if index else []
        manifests[label] = manifest(label, depends=tuple(depends))
    order = names(_toposort(manifests))
    assert sorted(order) == sorted(manifests)
    position = {label: at for at, label in enumerate(order)}
    for label, item in manifests.items():
        for dependency in item.depends:
            assert position[dependency] < position[label]


@pytest.mark.parametrize(
    "graph",
    [
        {"a": ("a",)},
        {"a": ("b",), "b": ("a",)},
        {"a": ("b",), "b": ("c",), "c": ("a",)},
        {"root": (), "a": ("root", "b"), "b": ("c",), "c": ("a",)},
    ],
)
def test_toposort_detects_cycles(graph: dict[str, tuple[str, ...]]) -> None:
    manifests = {label: manifest(label, depends=depends) for label, depends in graph.items()}
    with pytest.raises(ValueError, match="cycle"):
        _toposort(manifests)


def test_toposort_refuses_an_unknown_dependency() -> None:
    manifests = {"inventory": manifest("inventory", depends=("org",))}
    with pytest.raises(ValueError, match="unknown module dependency org"):
        _toposort(manifests)


# -- the real registry -------------------------------------------------------------------------


def test_discover_loads_the_business_modules_in_dependency_order() -> None:
    registry = discover()
    assert registry is discover()  # built once
    order = [module.name for module in registry.modules]
    assert {"sync", "org", "inventory"} <= set(order)
    assert order.index("org") < order.index("inventory")
    for module in registry.modules:
        for dependency in module.depends:
            assert order.index(dependency) < order.index(module.name)


def test_every_discovered_mutation_resolves_to_itself() -> None:
    registry = discover()
    assert registry.mutations
    for key, definition in registry.mutations.items():
        assert key == definition.key
        assert registry.resolve(definition.name, definition.version) is definition
        assert registry.resolve_latest(definition.name).version >= definition.version
    for name in ("inventory.receive", "inventory.issue", "org.create_site", "sync.resolve_rejection"):
        assert registry.resolve_latest(name).name == name


def test_specs_are_ordered_parents_first() -> None:
    order = [spec.name for spec in discover().ordered_specs()]
    assert order.index("sites") < order.index("warehouses") < order.index("locations")
    assert order.index("units") < order.index("items") < order.index("stock_moves")
    assert order.index("locations") < order.index("on_hand")
